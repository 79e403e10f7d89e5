// Validates Kubernetes objects (JSON files, each an array of objects) against
// the Kubernetes and prometheus-operator models pinned by package-lock.json:
// types, required fields, enums and formats by the models' own validators,
// plus unknown fields (which those accept) by walking the models' type
// declarations, and every apiVersion checked to be served by Kubernetes 1.30.
//   node validate.mjs FILE.json...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const here = path.dirname(new URL(import.meta.url).pathname);
const modules = path.join(here, "node_modules");

// Stable APIs of the objects wsrouter ships, all served by Kubernetes 1.30
// (and by the prometheus-operator CRDs for monitoring.coreos.com/v1).
const served130 = new Set(["v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1",
  "monitoring.coreos.com/v1"]);

function modelModule(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  return `kubernetes-models/${apiVersion}`;
}

// --- unknown fields, from the generated .d.ts interfaces

// `"name"?: Type;` pairs of a declaration body, Type possibly spanning lines
// and holding `;` inside braces (inline object types of the CRD models).
function parseFields(text) {
  const src = text.replace(/\/\*\*[\s\S]*?\*\//g, "").replace(/\s+/g, " ");
  const fields = new Map();
  const field = /"([^"]+)"\??: /g;
  let m;
  let depth = 0;
  let pos = 0;
  while ((m = field.exec(src))) {
    // Only fields at this level: skip matches nested inside an inline type.
    for (; pos < m.index; pos++) {
      if (src[pos] === "{" || src[pos] === "<") depth++;
      else if (src[pos] === "}" || src[pos] === ">") depth--;
    }
    let end = field.lastIndex;
    let d = 0;
    for (; end < src.length; end++) {
      const c = src[end];
      if (c === "{" || c === "<") d++;
      else if (c === "}" || c === ">") d--;
      else if (c === ";" && d === 0) break;
    }
    if (depth === 0) fields.set(m[1], src.slice(field.lastIndex, end).trim());
    field.lastIndex = end + 1;
    pos = end + 1;
  }
  return fields;
}

const interfaceCache = new Map();

function parseInterface(file) {
  if (interfaceCache.has(file)) return interfaceCache.get(file);
  const text = fs.readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1], m[2]);
  const body = text.match(/export interface \w+(?: extends [\w, ]+)? \{([\s\S]*?)\n\}/);
  const result = { file, imports, fields: body ? parseFields(body[1]) : new Map(), parsed: !!body };
  interfaceCache.set(file, result);
  return result;
}

function resolveImport(fromFile, spec) {
  const base = spec.startsWith(".") ? path.resolve(path.dirname(fromFile), spec)
    : path.join(modules, spec);
  return base + ".d.ts";
}

function checkUnknown(value, iface, where, errors) {
  if (!iface.parsed || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (!iface.fields.has(k)) {
      errors.push(`${where}/${k}: unknown field (not in ${path.basename(iface.file, ".d.ts")})`);
      continue;
    }
    checkType(v, iface.fields.get(k), iface, `${where}/${k}`, errors);
  }
}

// Where the brace opening `type` closes: the end for one inline object type,
// earlier for a union such as `{...} | string`.
function closingBrace(type) {
  let depth = 0;
  for (let i = 0; i < type.length; i++) {
    if (type[i] === "{") depth++;
    else if (type[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

function checkType(value, type, iface, where, errors) {
  let m;
  if ((m = type.match(/^Array<([\s\S]+)>$/))) {
    if (Array.isArray(value)) value.forEach((e, i) => checkType(e, m[1].trim(), iface, `${where}/${i}`, errors));
  } else if ((m = type.match(/^\{ ?\[key: string\]: ([\s\S]+?);? ?\}$/))) {
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) checkType(v, m[1].trim(), iface, `${where}/${k}`, errors);
    }
  } else if (type.startsWith("{") && type.endsWith("}") && closingBrace(type) === type.length - 1) {
    const inline = { file: iface.file, imports: iface.imports, parsed: true,
      fields: parseFields(type.slice(1, -1)) };
    checkUnknown(value, inline, where, errors);
  } else if (iface.imports.has(type)) {
    checkUnknown(value, parseInterface(resolveImport(iface.file, iface.imports.get(type))), where, errors);
  }
}

// --- main
const require = createRequire(import.meta.url);
let failures = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  const objects = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const obj of objects) {
    const id = `${path.basename(file)}: ${obj.kind} ${obj.metadata?.name}`;
    const errors = [];
    if (!served130.has(obj.apiVersion)) errors.push(`apiVersion ${obj.apiVersion} is not one wsrouter expects Kubernetes 1.30 to serve`);
    let Model;
    try {
      Model = (await import(modelModule(obj.apiVersion)))[obj.kind];
    } catch (e) {
      errors.push(`no model for ${obj.apiVersion}: ${e.message}`);
    }
    if (!Model) {
      errors.push(`no model for kind ${obj.kind} in ${obj.apiVersion}`);
    } else {
      try {
        new Model(obj).validate();
      } catch (e) {
        errors.push(e.message);
      }
      {
        const dts = require.resolve(`${modelModule(obj.apiVersion)}/${obj.kind}`).replace(/\.c?js$/, ".d.ts");
        const iface = parseInterface(dts);
        if (!iface.parsed || iface.fields.size === 0) errors.push(`cannot read the fields of ${dts}`);
        checkUnknown(obj, iface, "", errors);
      }
    }
    checked++;
    if (errors.length) {
      failures++;
      console.log(`FAIL ${id}\n  ${errors.join("\n  ")}`);
    } else {
      console.log(`ok   ${id}`);
    }
  }
}
console.log(`${checked} objects, ${failures} invalid`);
process.exit(failures || checked === 0 ? 1 : 0);
