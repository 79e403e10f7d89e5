// The demo page (/ on the public port) in a real browser: Debian's chromium
// (/usr/bin/chromium), driven by playwright-core (pinned by package-lock.json;
// it downloads no browser), against the real router with the shipped
// config.yaml and its demo feed on loopback.
//   cd tests/browser && npm ci && cd ../.. && WSROUTER=build/wsrouter node --test tests/browser/
// Screenshots go to $BROWSER_ARTIFACTS (default build/artifacts/).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { REPO, RouterProcess, eventually } from '../../web/test/support/router.js';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.BROWSER_ARTIFACTS || path.join(REPO, 'build', 'artifacts');
const STEP_MS = 10000;
const SYMBOLS = 30; // config.yaml's feed.symbols
const PUBLISHER_TOKEN = 'browser-test-publisher';

// Publishes through the admin API, as a backend would.
async function publish(router, message) {
  const response = await fetch(`http://127.0.0.1:${router.adminPort}/api/v1/publish`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${PUBLISHER_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(message),
  });
  assert.equal(response.status, 200, await response.text());
}

// A page on the router, with everything it logs or asks for recorded.
async function openPage(browser, router, viewport) {
  const page = await browser.newPage({ viewport });
  const seen = { errors: [], outside: [] };
  page.on('console', (m) => { if (m.type() === 'error') seen.errors.push(m.text()); });
  page.on('pageerror', (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => seen.errors.push(`requestfailed: ${r.url()}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.host !== `127.0.0.1:${router.port}` && url.protocol !== 'data:') seen.outside.push(r.url());
  });
  const response = await page.goto(`${router.httpBase}/`);
  assert.equal(response.status(), 200);
  await page.waitForFunction((n) => document.querySelectorAll('#market-rows tr[data-symbol]').length === n,
    SYMBOLS, { timeout: STEP_MS });
  return { page, seen };
}

const prices = (page) => page.$$eval('#market-rows tr[data-symbol]',
  (rows) => Object.fromEntries(rows.map((r) => [r.dataset.symbol, r.querySelector('.price').textContent])));

// What sticks out horizontally: the document out of the viewport, or any
// visible element out of the viewport or out of its panel's border box.
const overflows = (page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`document is ${document.documentElement.scrollWidth} px wide in a ${width} px viewport`);
  }
  const name = (node) => `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ''}.${node.className?.baseVal ?? node.className}`;
  for (const node of document.body.querySelectorAll('*')) {
    const r = node.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const box = node.parentElement.closest('.panel, .index-card, .notice');
    const b = box ? box.getBoundingClientRect() : { left: 0, right: width };
    if (r.right > Math.min(width, b.right) + 0.5 || r.left < b.left - 0.5) {
      found.push(`${name(node)}: ${Math.round(r.left)}..${Math.round(r.right)} out of ${box ? name(box) : 'the viewport'} ${Math.round(b.left)}..${Math.round(b.right)}`);
    }
  }
  return found;
});

describe('the demo page in chromium', () => {
  const router = new RouterProcess();
  let browser;
  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // A publisher token, to raise an alert on user:demo when the test wants one.
    router.extraEnv = { WSROUTER_ADMIN_PUBLISHER_TOKEN_FILE: router.file('publishers', `${PUBLISHER_TOKEN}\n`) };
    await router.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await router.stop();
    router.cleanup();
  });

  it('loads with no console error; prices change; another symbol shows its order book', async () => {
    const { page, seen } = await openPage(browser, router, { width: 1280, height: 900 });
    try {
      const first = await prices(page);
      await eventually(async () => {
        const now = await prices(page);
        return Object.keys(now).some((s) => now[s] !== first[s] && now[s] !== '–' && first[s] !== '–');
      }, 5000, 'a price to change');
      await page.waitForFunction(() => document.querySelectorAll('#indices .index-card[data-index]').length >= 3,
        null, { timeout: STEP_MS });
      // The first symbol's book is shown at once (retained), then another one's on a click.
      await page.waitForSelector('#book-symbol[data-symbol="AAPL"]', { timeout: STEP_MS });
      await page.click('#market-rows tr[data-symbol="MSFT"]');
      await page.waitForSelector('#book-symbol[data-symbol="MSFT"]', { timeout: STEP_MS });
      assert.equal(await page.locator('#bids tr').count(), 5);
      assert.equal(await page.locator('#asks tr').count(), 5);
      assert.ok(await page.locator('#market-rows tr[data-symbol="MSFT"].selected').count());
      assert.match(await page.textContent('#state-text'), /^open$/);
      // An alert on user:demo shows at the top of the alerts.
      await publish(router, { channel: 'user:demo', type: 'alert', data: {
        id: 1, user: 'demo', kind: 'price_move', symbol: 'MSFT', direction: 'up', threshold_pct: 3,
        message: 'MSFT up 3% since the open, at 431.20' } });
      await page.waitForFunction(() => document.querySelector('#alerts li')?.textContent.includes('MSFT up 3%'),
        null, { timeout: STEP_MS });
      await page.waitForFunction(() => Number(document.getElementById('rate').textContent) > 0, null,
        { timeout: STEP_MS }); // the message rate, counted each second
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.outside, [], 'the page asks the router only');
    } finally {
      await page.close();
    }
  });

  for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 800 }]) {
    it(`nothing overflows at ${viewport.width} px (screenshot in the artifacts)`, async () => {
      const { page, seen } = await openPage(browser, router, viewport);
      try {
        await page.waitForSelector('#bids tr', { timeout: STEP_MS });
        await page.waitForSelector('#indices .index-card[data-index]', { timeout: STEP_MS });
        // Sparklines with a few points each.
        await page.waitForFunction(() => [...document.querySelectorAll('svg.sparkline polyline')]
          .filter((p) => (p.getAttribute('points') || '').split(' ').length >= 4).length >= 10, null, { timeout: STEP_MS });
        // An alert too, so its panel is checked (and pictured) with content.
        await publish(router, { channel: 'user:demo', type: 'alert', data: {
          id: 2, user: 'demo', kind: 'price_move', symbol: 'NVDA', direction: 'down', threshold_pct: -3,
          message: 'NVDA down 3% since the open, at 135.62' } });
        await page.waitForSelector('#alerts li:not(.placeholder)', { timeout: STEP_MS });
        assert.deepEqual(await overflows(page), []);
        await page.screenshot({ path: path.join(ARTIFACTS, `demo-page-${viewport.width}.png`), fullPage: true });
        assert.deepEqual(seen.errors, []);
      } finally {
        await page.close();
      }
    });
  }

  it('shows a router restart, reconnects by itself, and shows a gap notice or misses no seq', async () => {
    const { page, seen } = await openPage(browser, router, { width: 1280, height: 900 });
    try {
      await page.waitForSelector('#state[data-state="open"]', { timeout: STEP_MS });
      await page.waitForSelector('#bids tr', { timeout: STEP_MS });
      const port = router.port;

      await router.stop(); // SIGTERM: the page's connection is closed with 1001
      await page.waitForSelector('#state[data-state="reconnecting"]', { timeout: STEP_MS });
      await page.waitForSelector('#notices .notice[data-kind="lost"]', { timeout: STEP_MS });
      assert.match(await page.textContent('#notices .notice[data-kind="lost"]'), /1001/);

      await router.start(port); // the same port: the page must find it by itself
      await page.waitForSelector('#state[data-state="open"]', { timeout: STEP_MS });
      await page.waitForSelector('#notices .notice[data-kind="reconnected"]', { timeout: STEP_MS });
      const before = await prices(page);
      await eventually(async () => {
        const now = await prices(page);
        return Object.keys(now).some((s) => now[s] !== before[s]);
      }, 5000, 'prices moving again after the restart');

      const gapNotices = await page.locator('#notices .notice[data-kind="gap"]').count();
      if (gapNotices === 0) {
        // No notice: then every channel's seqs must run without a hole.
        const delivered = await page.evaluate(() => window.wsrouterDemo.delivered);
        for (const [channel, seqs] of Object.entries(delivered)) {
          for (let i = 1; i < seqs.length; ++i) {
            assert.equal(seqs[i], seqs[i - 1] + 1, `${channel}: ${seqs[i]} after ${seqs[i - 1]} with no gap notice`);
          }
        }
      } else {
        // This router keeps no history across a restart: the notice says the sequences restarted.
        assert.match(await page.textContent('#notices .notice[data-kind="gap"]'), /restarted/);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-page-reconnected.png'), fullPage: false });
      // The notices fit a phone too.
      await page.setViewportSize({ width: 390, height: 844 });
      assert.deepEqual(await overflows(page), []);
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-page-reconnected-390.png'), fullPage: false });
      // While the router was down the browser logged its failed attempts; nothing else.
      const unexpected = seen.errors.filter((e) => !/WebSocket connection to .* failed/.test(e));
      assert.deepEqual(unexpected, []);
    } finally {
      await page.close();
    }
  });
});
