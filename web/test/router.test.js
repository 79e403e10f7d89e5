// The client in Node (with the `ws` package passed in) against the real
// router (build/wsrouter, the shipped config.yaml and its demo feed): the
// documented messages in order, a restart on the same port survived by
// itself (resume refused, then `since`), a lost connection resumed, tokens
// in the subprotocol; and the
// files the router serves on its public port.
//   cd tests/e2e && npm ci && cd ../.. && WSROUTER=build/wsrouter node --test web/test/router.test.js

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { WsRouterClient } from '../client.js';
import { REPO, RouterProcess, eventually } from './support/router.js';

// The `ws` package pinned for the end-to-end tests (tests/e2e/package-lock.json).
const WebSocket = createRequire(path.join(REPO, 'tests', 'e2e', 'package.json'))('ws');
const STEP_MS = 10000;

// `ws`, recording every op the client sends; a `resume` waits for
// `resumeGate` (a promise) when one is given.
function recordingWebSocket(sent, resumeGate) {
  return class extends WebSocket {
    send(text) {
      const message = JSON.parse(text);
      sent.push(message);
      if (resumeGate && message.op === 'resume') {
        resumeGate.then(() => super.send(text));
        return;
      }
      super.send(text);
    }
  };
}

// A client with short waits, and what it delivers and reports.
function watchedClient(url, options = {}, resumeGate = null) {
  const seen = { states: [], gaps: [], errors: [], sent: [], data: {} };
  const client = new WsRouterClient({
    url,
    WebSocket: recordingWebSocket(seen.sent, resumeGate),
    backoffInitialMs: 100,
    goingAwayDelayMs: 300,
    onState: (state, detail) => seen.states.push({ state, ...detail }),
    onGap: (gap) => seen.gaps.push(gap),
    onError: (error) => seen.errors.push(error),
    ...options,
  });
  seen.follow = (channel) => {
    seen.data[channel] = [];
    client.subscribe(channel, (message) => seen.data[channel].push(message));
  };
  return { client, seen };
}

// Each channel's seqs rise by exactly one, except right after a gap that
// covers the jump (a `reset` gap: the new sequence starts anywhere).
function assertEveryMessageOnceOrAGap(seen) {
  for (const [channel, messages] of Object.entries(seen.data)) {
    const gaps = seen.gaps.filter((g) => g.channel === channel);
    for (let i = 1; i < messages.length; ++i) {
      const prev = messages[i - 1].seq;
      const seq = messages[i].seq;
      if (seq === prev + 1) continue;
      const covered = gaps.some((g) => (g.reason === 'reset' && g.seq < seq)
        || (g.from === prev + 1 && g.to === seq - 1));
      assert.ok(covered, `${channel}: seq ${seq} after ${prev} with no gap (gaps: ${JSON.stringify(gaps)})`);
    }
  }
}

describe('the client against the router', () => {
  const router = new RouterProcess();
  before(async () => { await router.start(); });
  after(async () => { await router.stop(); router.cleanup(); });

  it('receives the demo channels in order, through a restart on the same port', async () => {
    const { client, seen } = watchedClient(router.wsUrl);
    for (const channel of ['stock:AAPL', 'orderbook:AAPL', 'index', 'market']) seen.follow(channel);
    try {
      await eventually(() => Object.values(seen.data).every((m) => m.length >= 3), STEP_MS, 'data on every channel');
      assert.deepEqual(seen.states.map((s) => s.state), ['connecting', 'open']);
      assert.equal(seen.data['stock:AAPL'][0].type, 'price_update');
      assert.equal(seen.data['orderbook:AAPL'][0].type, 'orderbook_update');
      assert.equal(seen.data.index[0].type, 'index_update');
      assert.equal(seen.data.market[0].type, 'market_snapshot');
      const before = Object.fromEntries(Object.entries(seen.data).map(([c, m]) => [c, m.length]));

      const port = router.port;
      await router.stop(); // SIGTERM: every client closed with 1001
      const lost = await eventually(() => seen.states.find((s) => s.state === 'reconnecting'), STEP_MS, 'reconnecting');
      assert.equal(lost.code, 1001);
      await router.start(port);
      await eventually(() => seen.states.filter((s) => s.state === 'open').length === 2, STEP_MS, 'open again');
      // The client asked to resume, was refused (the memory broker's
      // sessions went with the process) and resubscribed each channel
      // with since its last seq.
      const resume = seen.sent.find((m) => m.op === 'resume');
      assert.ok(resume, JSON.stringify(seen.sent));
      const resubscribe = await eventually(() => seen.sent.find((m) => m.op === 'subscribe' && m.id > resume.id),
        STEP_MS, 'the subscribe after the refused resume');
      for (const channel of Object.keys(seen.data)) {
        assert.ok(Number.isInteger(resubscribe.since[channel]), `since for ${channel}: ${JSON.stringify(resubscribe)}`);
      }
      await eventually(() => Object.entries(seen.data).every(([c, m]) => m.length >= before[c] + 2), STEP_MS,
        'data on every channel after the restart');
      // A router with the memory broker restarts its sequences: the client
      // says so rather than dropping everything as a duplicate.
      assert.ok(seen.gaps.some((g) => g.reason === 'reset'), JSON.stringify(seen.gaps));
      assertEveryMessageOnceOrAGap(seen);
      assert.deepEqual(seen.errors, []);
    } finally {
      client.close();
    }
  });

  it('resumes its session after the network dropped the connection, each seq once', async () => {
    const metric = async (name) => {
      const text = await (await fetch(`http://127.0.0.1:${router.adminPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line ? Number(line.split(' ')[1]) : NaN;
    };
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const { client, seen } = watchedClient(router.wsUrl, {}, gate);
    for (const channel of ['stock:NVDA', 'index']) seen.follow(channel);
    try {
      await eventually(() => Object.values(seen.data).every((m) => m.length >= 3), STEP_MS, 'data on every channel');
      const kept = await metric('wsrouter_resume_sessions');
      client.socket._socket.destroy(); // no close frame: the connection is lost
      await eventually(() => seen.states.some((s) => s.state === 'reconnecting'), STEP_MS, 'reconnecting');
      // The resume waits until the router has kept the session.
      let held = kept;
      await eventually(async () => { held = await metric('wsrouter_resume_sessions'); return held === kept + 1; },
        STEP_MS, 'the session kept');
      const before = Object.fromEntries(Object.entries(seen.data).map(([c, m]) => [c, m.length]));
      release();
      await eventually(() => Object.entries(seen.data).every(([c, m]) => m.length >= before[c] + 3), STEP_MS,
        'data on every channel after the resume');
      const resume = seen.sent.find((m) => m.op === 'resume');
      assert.deepEqual(Object.keys(resume.since).sort(), ['index', 'stock:NVDA']);
      assert.deepEqual(seen.sent.filter((m) => m.op === 'subscribe' && m.id > resume.id), []);
      assert.deepEqual(seen.gaps, []);
      assertEveryMessageOnceOrAGap(seen);
      assert.equal(await metric('wsrouter_resume_sessions'), kept);
    } finally {
      client.close();
    }
  });

  it('subscribes with since and gets the history replayed, each seq once', async () => {
    const first = watchedClient(router.wsUrl);
    first.seen.follow('stock:MSFT');
    await eventually(() => first.seen.data['stock:MSFT'].length >= 4, STEP_MS, 'stock:MSFT');
    const since = first.seen.data['stock:MSFT'][0].seq;
    first.client.close();
    const second = watchedClient(router.wsUrl);
    second.seen.data['stock:MSFT'] = [];
    second.client.subscribe('stock:MSFT', (m) => second.seen.data['stock:MSFT'].push(m), { since });
    try {
      await eventually(() => second.seen.data['stock:MSFT'].length >= 4, STEP_MS, 'the replay');
      assert.equal(second.seen.data['stock:MSFT'][0].seq, since + 1);
      assertEveryMessageOnceOrAGap(second.seen);
      assert.deepEqual(second.seen.gaps, []);
    } finally {
      second.client.close();
    }
  });
});

describe('the client with tokens', () => {
  const router = new RouterProcess();
  before(async () => {
    const tokens = router.file('tokens', 'token-one\ntoken-two\n');
    router.extraEnv = { WSROUTER_AUTH_MODE: 'token', WSROUTER_AUTH_TOKEN_FILE: tokens };
    await router.start();
  });
  after(async () => { await router.stop(); router.cleanup(); });

  it('connects with its token in the subprotocol', async () => {
    let fetched = 0;
    const { client, seen } = watchedClient(router.wsUrl, { token: () => { fetched += 1; return 'token-two'; } });
    seen.follow('index');
    try {
      await eventually(() => seen.data.index.length >= 1, STEP_MS, 'index');
      assert.equal(fetched, 1);
      assert.deepEqual(seen.states.map((s) => s.state), ['connecting', 'open']);
    } finally {
      client.close();
    }
  });

  it('keeps trying, with backoff, while the router refuses its token', async () => {
    const { client, seen } = watchedClient(router.wsUrl, { token: 'wrong', backoffInitialMs: 50, backoffMaxMs: 200 });
    try {
      await eventually(() => seen.states.filter((s) => s.state === 'reconnecting').length >= 3, STEP_MS, 'three attempts');
      assert.ok(!seen.states.some((s) => s.state === 'open'));
    } finally {
      client.close();
    }
  });
});

describe('the files on the public port', () => {
  const router = new RouterProcess();
  before(async () => { await router.start(); });
  after(async () => { await router.stop(); router.cleanup(); });

  it('serves /client.js as it is in web/, with its type, no-cache and an ETag that revalidates', async () => {
    const response = await fetch(`${router.httpBase}/client.js`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const etag = response.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    assert.equal(await response.text(), fs.readFileSync(path.join(REPO, 'web', 'client.js'), 'utf8'));
    const again = await fetch(`${router.httpBase}/client.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    const head = await fetch(`${router.httpBase}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(Number(head.headers.get('content-length')), fs.statSync(path.join(REPO, 'web', 'index.html')).size);
  });

  it('answers 404 with a JSON error elsewhere, and 400 to a plain GET of /ws', async () => {
    const missing = await fetch(`${router.httpBase}/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'NOT_FOUND');
    const ws = await fetch(`${router.httpBase}/ws`);
    assert.equal(ws.status, 400);
    assert.equal((await ws.json()).error.code, 'BAD_HANDSHAKE');
  });

  it('with server.demo_page false, / is 404 and /client.js is still served', async () => {
    const off = new RouterProcess({ WSROUTER_SERVER_DEMO_PAGE: 'false', WSROUTER_FEED_ENABLED: 'false' });
    await off.start();
    try {
      const page = await fetch(`${off.httpBase}/`);
      assert.equal(page.status, 404);
      assert.match((await page.json()).error.message, /server\.demo_page/);
      assert.equal((await fetch(`${off.httpBase}/demo.js`)).status, 404);
      assert.equal((await fetch(`${off.httpBase}/client.js`)).status, 200);
    } finally {
      await off.stop();
      off.cleanup();
    }
  });
});
