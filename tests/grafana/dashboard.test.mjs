// Checks grafana/dashboards/*.json without a Grafana:
// - type-checks each dashboard against @grafana/schema (pinned in
//   package-lock.json): the dashboard as a whole against Dashboard, and each
//   panel's options and fieldConfig.defaults.custom against its panel type's
//   Options and FieldConfig. A TypeScript file is generated and compiled with
//   tsc --noEmit --strict, so a misspelt or unknown property, a missing
//   required one and a wrong literal (an enum value) fail;
// - checks what the schema cannot: the stable uid, tags, the datasource, job,
//   pod and namespace variables, every query on ${datasource}, every range
//   on $__rate_interval, every selector on $job and $pod, every metric in
//   the catalogue (docs/observability.md), unique ids, a grid that fits.
//
//   cd tests/grafana && npm ci && node --test dashboard.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const dashboardsDir = path.join(root, 'grafana', 'dashboards');
const rulesFile = path.join(root, 'grafana', 'alerts', 'wsrouter.rules.yaml');
const catalogueFile = path.join(root, 'docs', 'observability.md');

// The uid is part of the URL operators bookmark and link to: it never changes.
const EXPECTED = { 'wsrouter.json': { uid: 'wsrouter-overview' } };

// Panel types whose options are type-checked, and where their types live.
const PANEL_TYPES = {
  timeseries: 'raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen',
  stat: 'raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen',
  table: 'raw/composable/table/panelcfg/x/TablePanelCfg_types.gen',
};
// Panel types without a FieldConfig of their own (custom must then be absent or empty).
const NO_CUSTOM = new Set(['stat']);

const DS_UID = '${datasource}';

function loadDashboards() {
  const files = fs.readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length > 0, `no dashboard in ${dashboardsDir}`);
  return files.map((f) => ({ file: f, json: JSON.parse(fs.readFileSync(path.join(dashboardsDir, f), 'utf8')) }));
}

function allPanels(dashboard) {
  const out = [];
  for (const p of dashboard.panels ?? []) {
    out.push(p);
    if (p.type === 'row') out.push(...(p.panels ?? []));
  }
  return out;
}

function allTargets(dashboard) {
  const out = [];
  for (const p of allPanels(dashboard)) {
    for (const t of p.targets ?? []) out.push({ panel: p, target: t });
  }
  return out;
}

// Metric names the catalogue documents: every `name` in its tables.
function catalogue() {
  const text = fs.readFileSync(catalogueFile, 'utf8');
  const names = new Set(['up']);
  for (const line of text.split('\n')) {
    const m = line.match(/^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram)\s*\|/);
    if (!m) continue;
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
  }
  assert.ok(names.size > 20, `the metric catalogue in ${catalogueFile} looks empty`);
  return names;
}

const PROMQL_WORDS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
  'group', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool',
  'offset', 'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'histogram_quantile', 'label_values',
  'label_replace', 'label_join', 'abs', 'clamp_min', 'clamp_max', 'vector', 'scalar', 'time', 'timestamp',
  'absent', 'le', 'inf', 'nan',
]);

// Metric names in a PromQL expression (identifiers before a selector or
// standing alone, not functions, keywords, label names or strings).
function metricNames(expr) {
  const noLabels = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/(label_values\([^,]*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)/g, '$1)') // its label argument
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ''); // grouping labels
  const names = [];
  for (const m of noLabels.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = noLabels.slice(m.index + word.length);
    if (PROMQL_WORDS.has(word.toLowerCase()) || word.endsWith('_over_time')) continue;
    if (/^\s*\(/.test(after)) continue; // a function call
    if (word.startsWith('$') || noLabels[m.index - 1] === '$') continue;
    names.push(word);
  }
  return names;
}

for (const { file, json: d } of loadDashboards()) {
  test(`${file}: identity (uid, title, tags, no __inputs)`, () => {
    const expected = EXPECTED[file];
    assert.ok(expected, `${file} is not listed in EXPECTED with its stable uid`);
    assert.equal(d.uid, expected.uid, 'the uid is stable: links and bookmarks use it');
    assert.ok(typeof d.title === 'string' && d.title.length > 0, 'title');
    assert.ok(Array.isArray(d.tags) && d.tags.includes('wsrouter'), 'tags include wsrouter');
    assert.ok(d.schemaVersion >= 36, `schemaVersion ${d.schemaVersion}`);
    assert.equal(d.id ?? null, null, 'id is null (Grafana assigns it on import)');
    for (const key of ['__inputs', '__requires', '__elements']) assert.ok(!(key in d), `${key} present`);
    assert.ok(!JSON.stringify(d).includes('${DS_'), 'an exported ${DS_...} input is left');
  });

  test(`${file}: variables (datasource, job, pod, namespace)`, () => {
    const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
    const ds = vars.datasource;
    assert.ok(ds, 'a datasource variable');
    assert.equal(ds.type, 'datasource');
    assert.equal(ds.query, 'prometheus');
    for (const name of ['job', 'pod', 'namespace']) {
      const v = vars[name];
      assert.ok(v, `a ${name} variable`);
      assert.equal(v.type, 'query', `${name} is a query variable`);
      assert.deepEqual(v.datasource, { type: 'prometheus', uid: DS_UID }, `${name} queries \${datasource}`);
      assert.ok(v.refresh >= 1, `${name} refreshes`);
    }
    assert.match(vars.job.query, /^label_values\(wsrouter_build_info, job\)$/);
    assert.match(vars.pod.query, /^label_values\(wsrouter_build_info\{job="\$job"\}, pod\)$/);
    assert.match(vars.namespace.query, /^label_values\(wsrouter_published_total\{job="\$job", pod=~"\$pod"\}, namespace\)$/);
    for (const name of ['pod', 'namespace']) {
      const v = vars[name];
      assert.equal(v.multi, true, `${name} is multi-value`);
      assert.equal(v.includeAll, true, `${name} includes All`);
      assert.equal(v.allValue, '.*', `${name}'s All is .* (series without the label still match)`);
    }
  });

  test(`${file}: every panel and query on \${datasource}`, () => {
    const panels = allPanels(d).filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 20, `only ${panels.length} panels`);
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: DS_UID }, `panel "${p.title}" datasource`);
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has no query`);
      assert.ok(p.title && p.description, `panel ${p.id} needs a title and a description`);
    }
    for (const { panel, target } of allTargets(d)) {
      assert.deepEqual(target.datasource, { type: 'prometheus', uid: DS_UID }, `a query of "${panel.title}"`);
      assert.ok(typeof target.expr === 'string' && target.expr.length > 0, `a query of "${panel.title}" has no expr`);
      assert.ok(target.refId, `a query of "${panel.title}" has no refId`);
    }
  });

  test(`${file}: ranges on $__rate_interval, selectors on $job and $pod`, () => {
    let usesNamespace = false;
    for (const { panel, target } of allTargets(d)) {
      const expr = target.expr;
      const where = `"${panel.title}" ${target.refId}: ${expr}`;
      for (const m of expr.matchAll(/\[([^\]]*)\]/g)) {
        assert.equal(m[1], '$__rate_interval', `a range other than [$__rate_interval] in ${where}`);
      }
      for (const m of expr.matchAll(/\b(rate|irate|increase|delta|idelta|deriv|[a-z]+_over_time)\s*\(/g)) {
        const rest = expr.slice(m.index);
        assert.match(rest, /^[a-z_]+\s*\([^()]*\[\$__rate_interval\]\s*\)/, `${m[1]}() without [$__rate_interval] in ${where}`);
      }
      const selectors = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)];
      assert.ok(selectors.length > 0, `no selector in ${where}`);
      for (const [, name, labels] of selectors) {
        assert.ok(labels.includes('job="$job"'), `${name} without job="$job" in ${where}`);
        assert.ok(labels.includes('pod=~"$pod"'), `${name} without pod=~"$pod" in ${where}`);
        if (labels.includes('namespace=~"$namespace"')) usesNamespace = true;
      }
      assert.ok(!/\$__interval\b/.test(expr), `$__interval (use $__rate_interval) in ${where}`);
    }
    assert.ok(usesNamespace, 'no query filters on $namespace');
  });

  test(`${file}: every metric is in the catalogue`, () => {
    const names = catalogue();
    const used = new Set();
    for (const { panel, target } of allTargets(d)) {
      for (const name of metricNames(target.expr)) {
        assert.ok(names.has(name), `"${panel.title}" uses ${name}, which docs/observability.md does not list`);
        used.add(name);
      }
    }
    for (const v of d.templating.list) {
      if (typeof v.query !== 'string' || v.type !== 'query') continue;
      for (const name of metricNames(v.query)) assert.ok(names.has(name), `variable ${v.name} uses ${name}`);
    }
    // The list: each of these is on the dashboard.
    for (const name of ['wsrouter_channel_subscribers', 'wsrouter_subscribers', 'wsrouter_connections',
      'wsrouter_published_total', 'wsrouter_delivered_total', 'wsrouter_dropped_total',
      'wsrouter_broadcast_duration_seconds_bucket', 'wsrouter_publish_to_write_seconds_bucket',
      'wsrouter_auth_failures_total', 'wsrouter_connections_refused_total', 'wsrouter_broker_up',
      'process_cpu_seconds_total', 'process_resident_memory_bytes', 'wsrouter_client_queue_depth_max',
      'wsrouter_sent_bytes_total',
      // The Redis broker, resume and the limits shared through Redis.
      'wsrouter_broker_errors_total', 'wsrouter_broker_reconnects_total', 'wsrouter_broker_publish_failures_total',
      'wsrouter_broker_command_duration_seconds_bucket', 'wsrouter_broker_replayed_total', 'wsrouter_broker_lost_total',
      'wsrouter_broker_epoch_changes_total', 'wsrouter_broker_numbering_conflicts_total', 'wsrouter_resumes_total',
      'wsrouter_resume_sessions_kept_total', 'wsrouter_resume_sessions_lost_total', 'wsrouter_resume_sessions',
      'wsrouter_shared_limit_fallbacks_total', 'wsrouter_shared_limit_refusals_total']) {
      assert.ok(used.has(name), `no panel shows ${name}`);
    }
  });

  test(`${file}: ids unique, grid fits`, () => {
    const ids = new Set();
    const cells = new Set();
    for (const p of allPanels(d)) {
      assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `panel id ${p.id} missing or repeated`);
      ids.add(p.id);
      const g = p.gridPos;
      assert.ok(g && g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24, `panel "${p.title}" gridPos ${JSON.stringify(g)}`);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `panel "${p.title}" overlaps another at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  test(`${file}: type-checks against @grafana/schema`, () => {
    const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
    assert.ok(fs.existsSync(tsc), 'tests/grafana/node_modules is missing: cd tests/grafana && npm ci');
    // Inside tests/grafana, so that node_modules resolves from it.
    const dir = fs.mkdtempSync(path.join(here, '.tsc-'));
    try {
      const ts = [];
      ts.push("import type { Dashboard } from '@grafana/schema';");
      for (const [type, mod] of Object.entries(PANEL_TYPES)) {
        ts.push(`import type * as ${type} from '@grafana/schema/dist/esm/${mod}';`);
      }
      ts.push(
        '// A dashboard file is JSON: an enum-typed field holds the enum\'s value (e.g. "absolute"',
        '// for ThresholdsMode.Absolute). JsonOf<T> is T with each string enum replaced by the union',
        '// of its values; everything else (numbers, numeric enums, required and optional keys,',
        '// excess-property checks) is as @grafana/schema declares it.',
        'type JsonOf<T> = T extends string ? `${T}` : T extends number | boolean | null | undefined ? T :',
        '  T extends Array<infer U> ? Array<JsonOf<U>> : T extends object ? { [K in keyof T]: JsonOf<T[K]> } : T;',
        '',
        `export const dashboard: JsonOf<Dashboard> = ${JSON.stringify(d, null, 2)};`,
      );
      for (const p of allPanels(d)) {
        if (p.type === 'row') continue;
        assert.ok(p.type in PANEL_TYPES, `panel "${p.title}": type ${p.type} is not one this test can check (${Object.keys(PANEL_TYPES)})`);
        ts.push(`// panel ${p.id}: ${String(p.title).replace(/\n/g, ' ')}`);
        ts.push(`export const options_${p.id}: JsonOf<${p.type}.Options> = ${JSON.stringify(p.options ?? {})};`);
        const custom = p.fieldConfig?.defaults?.custom;
        if (NO_CUSTOM.has(p.type)) {
          assert.ok(custom === undefined || Object.keys(custom).length === 0, `panel "${p.title}": a ${p.type} panel has no custom field config`);
        } else {
          ts.push(`export const custom_${p.id}: JsonOf<${p.type}.FieldConfig> = ${JSON.stringify(custom ?? {})};`);
        }
      }
      fs.writeFileSync(path.join(dir, 'dashboard.ts'), ts.join('\n') + '\n');
      try {
        fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
          compilerOptions: {
            noEmit: true, strict: true, skipLibCheck: true, target: 'es2020', module: 'commonjs',
            moduleResolution: 'node10', ignoreDeprecations: '5.0', types: [],
          },
          files: ['dashboard.ts'],
        }));
        execFileSync(process.execPath, [tsc, '-p', dir], { cwd: here, encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        const numbered = ts.join('\n').split('\n').map((l, i) => `${String(i + 1).padStart(5)} ${l}`);
        const lines = new Set([...String(e.stdout).matchAll(/dashboard\.ts\((\d+),/g)].map((m) => Number(m[1])));
        const context = [...lines].slice(0, 20).map((n) => numbered.slice(Math.max(0, n - 4), n + 1).join('\n')).join('\n  ...\n');
        assert.fail(`tsc found errors in ${file} against @grafana/schema:\n${e.stdout}${e.stderr}\nat:\n${context}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('alert rules use only catalogued metrics and job="wsrouter"', () => {
  const names = catalogue();
  const text = fs.readFileSync(rulesFile, 'utf8');
  const exprs = [...text.matchAll(/^\s*expr:\s*(\|-?\s*\n((?:\s{10,}.*\n?)+)|(.+))$/gm)].map((m) => (m[2] ?? m[3]).trim());
  assert.ok(exprs.length >= 9, `only ${exprs.length} expressions found in ${rulesFile}`);
  for (const expr of exprs) {
    for (const name of metricNames(expr)) assert.ok(names.has(name), `${name} (in ${expr}) is not in docs/observability.md`);
    for (const [, name, labels] of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
      assert.ok(labels.includes('job="wsrouter"'), `${name} without job="wsrouter" in ${expr}`);
    }
  }
});
