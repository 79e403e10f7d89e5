'use strict';
// The router (build/wsrouter) with the default config.yaml and its demo feed,
// against Node's `ws` client: the documented messages arrive, in order.
//   cd tests/e2e && npm ci && cd ../.. && WSROUTER=build/wsrouter node --test tests/e2e/node/

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const WebSocket = require('ws');

const STEP_MS = 10000; // upper bound of any single wait
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];
const CONFIG = path.join(__dirname, '..', '..', '..', 'config.yaml');
// The first JSON log line: {"event":"serving","ws":"ws://host:port/ws","admin":"http://host:port",...}
function servingPorts(line) {
  let event;
  try { event = JSON.parse(line); } catch { return null; }
  if (!event || event.event !== 'serving' || event.demo_feed !== 'on') return null;
  const ws = /^ws:\/\/\S+:(\d+)\/ws$/.exec(event.ws);
  const admin = /^http:\/\/\S+:(\d+)$/.exec(event.admin);
  return ws && admin ? [Number(ws[1]), Number(admin[1])] : null;
}

// The demo channels and the type each carries (PROTOCOL.md, src/feed/README.md).
const CHANNEL_TYPES = {
  'stock:AAPL': 'price_update',
  'sector:tech': 'price_update',
  'orderbook:AAPL': 'orderbook_update',
  index: 'index_update',
  foreign: 'foreign_flow',
  market: 'market_snapshot',
};
// Namespaces whose last value is sent right after `subscribed` (config.yaml).
const RETAINED = new Set(['orderbook:AAPL', 'index', 'foreign', 'market']);
const WANTED_PER_CHANNEL = 2;

function delay(ms) { return new Promise((resolve) => { setTimeout(resolve, ms).unref(); }); }

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class RouterProcess {
  async start() {
    const bin = process.env.WSROUTER;
    if (!bin) throw new Error('WSROUTER is not set: point it at the built router (build/wsrouter)');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsrouter-node-'));
    this.stderrPath = path.join(this.dir, 'stderr');
    const stderrFd = fs.openSync(this.stderrPath, 'w');
    const env = {
      ASAN_OPTIONS: 'halt_on_error=1:detect_leaks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      ...process.env,
      // The default config.yaml, on free ports, stopping quickly.
      WSROUTER_SERVER_PORT: '0',
      WSROUTER_ADMIN_PORT: '0',
      WSROUTER_SERVER_HOST: '127.0.0.1',
      WSROUTER_ADMIN_HOST: '127.0.0.1',
      WSROUTER_SHUTDOWN_DRAIN_DELAY_MS: '0',
      WSROUTER_SHUTDOWN_CLOSE_WINDOW_MS: '200',
    };
    this.proc = spawn(bin, ['--config', CONFIG], { stdio: ['ignore', 'pipe', stderrFd], env });
    fs.closeSync(stderrFd);
    this.exited = false;
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
    });
    const lines = readline.createInterface({ input: this.proc.stdout });
    // Every line is read (the router logs to stdout): the pipe never fills.
    [this.port, this.adminPort] = await withTimeout(new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        const ports = servingPorts(line.trim());
        if (ports) resolve(ports);
      });
      this.exitPromise.then(({ code }) =>
        reject(new Error(`wsrouter exited (${code}) before serving: ${this.stderr()}`)));
    }), STEP_MS, "the 'serving' log line");
    return this;
  }

  url(p) { return `ws://127.0.0.1:${this.port}${p}`; }

  stderr() {
    try { return fs.readFileSync(this.stderrPath, 'utf8'); } catch { return ''; }
  }

  check() {
    const text = this.stderr();
    if (SANITIZER_MARKERS.some((m) => text.includes(m))) {
      throw new Error(`sanitizer report in wsrouter's stderr:\n${text.slice(-8000)}`);
    }
    if (this.exited) throw new Error(`wsrouter died: ${text.slice(-8000)}`);
  }

  async stop() {
    if (!this.proc) return;
    const diedEarly = this.exited;
    let result;
    if (!this.exited) {
      process.kill(this.proc.pid, 'SIGTERM');
      result = await Promise.race([this.exitPromise, delay(10000).then(() => null)]);
      if (result === null) {
        process.kill(this.proc.pid, 'SIGKILL');
        await this.exitPromise;
        throw new Error(`wsrouter did not exit within 10 s of SIGTERM: ${this.stderr().slice(-8000)}`);
      }
    } else {
      result = await this.exitPromise;
    }
    const text = this.stderr();
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (SANITIZER_MARKERS.some((m) => text.includes(m))) {
      throw new Error(`sanitizer report in wsrouter's stderr:\n${text.slice(-8000)}`);
    }
    if (diedEarly || result.code !== 0) {
      throw new Error(`wsrouter ended badly (${JSON.stringify(result)}): ${text.slice(-8000)}`);
    }
  }
}

// A ws client that queues the JSON messages it receives.
function connect(url) {
  const ws = new WebSocket(url, { maxPayload: 0 });
  ws.inbox = [];
  ws.waiters = [];
  ws.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('message', (data, isBinary) => {
    assert.strictEqual(isBinary, false, 'the router sends text frames only');
    const message = JSON.parse(data.toString('utf8'));
    const waiter = ws.waiters.shift();
    if (waiter) waiter(message); else ws.inbox.push(message);
  });
  ws.on('error', (err) => { ws.lastError = err; });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), STEP_MS, `open ${url}`);
}

function nextMessage(ws, ms = STEP_MS) {
  if (ws.inbox.length) return Promise.resolve(ws.inbox.shift());
  return withTimeout(new Promise((resolve) => ws.waiters.push(resolve)), ms, 'a message');
}

async function closeClient(ws) {
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  const { code } = await withTimeout(ws.closed, STEP_MS, 'close');
  return code;
}

function checkData(channel, message, state) {
  assert.strictEqual(message.channel, channel, JSON.stringify(message));
  assert.notStrictEqual(message.type, 'gap', `unexpected gap ${JSON.stringify(message)}`);
  assert.strictEqual(message.type, CHANNEL_TYPES[channel], JSON.stringify(message));
  assert.ok(Number.isInteger(message.seq), JSON.stringify(message));
  assert.ok(Number.isInteger(message.ts) && message.ts > 1.6e12, JSON.stringify(message));
  assert.ok(message.data !== null && typeof message.data === 'object', JSON.stringify(message));
  const retained = state.count === 0 && RETAINED.has(channel) && message.seq === state.seq;
  if (retained) {
    // The retained value, right after `subscribed`: the channel's current seq.
  } else {
    assert.strictEqual(message.seq, state.seq + 1,
      `${channel}: seq ${message.seq} after ${state.seq}`);
  }
  if (!retained && state.liveTs) state.liveTs.push(message.ts);
  state.seq = message.seq;
  state.count += 1;
  if (message.type === 'price_update') {
    assert.strictEqual(typeof message.data.symbol, 'string');
    assert.strictEqual(typeof message.data.price, 'number');
    if (channel === 'stock:AAPL') assert.strictEqual(message.data.symbol, 'AAPL');
  }
  if (message.type === 'orderbook_update') {
    assert.ok(Array.isArray(message.data.bids) && Array.isArray(message.data.asks),
      JSON.stringify(message.data));
  }
}

// Reads until every channel in `states` has WANTED_PER_CHANNEL data messages.
async function collect(ws, states, ms, wanted = WANTED_PER_CHANNEL) {
  const deadline = Date.now() + ms;
  const missing = () => Object.keys(states).filter((c) => states[c].count < wanted);
  while (missing().length) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no data within ${ms} ms on ${missing().join(', ')}`);
    const message = await nextMessage(ws, left).catch((e) => {
      throw new Error(`${e.message}; still waiting for ${missing().join(', ')}`);
    });
    assert.ok(message.channel in states, `message for an unsubscribed channel: ${JSON.stringify(message)}`);
    checkData(message.channel, message, states[message.channel]);
  }
}

describe('wsrouter demo feed, ws client', () => {
  const router = new RouterProcess();
  before(async () => { await router.start(); });
  after(async () => { await router.stop(); });

  it('/ws/market: welcome, subscribed, then market snapshots about once a second', async () => {
    const ws = await connect(router.url('/ws/market'));
    const welcome = await nextMessage(ws);
    assert.strictEqual(welcome.type, 'welcome', JSON.stringify(welcome));
    assert.strictEqual(typeof welcome.session, 'string');
    assert.ok(Number.isInteger(welcome.heartbeat_ms));
    const subscribed = await nextMessage(ws);
    assert.strictEqual(subscribed.type, 'subscribed', JSON.stringify(subscribed));
    assert.strictEqual(subscribed.channel, 'market');
    const states = { market: { seq: subscribed.seq, count: 0, liveTs: [] } };
    // Three snapshots (the first may be the retained one), one a second, plus slack.
    await collect(ws, states, 6000, 3);
    const ts = states.market.liveTs;
    assert.ok(ts.length >= 2, `live snapshots: ${ts.length}`);
    for (let i = 1; i < ts.length; ++i) {
      const interval = ts[i] - ts[i - 1];
      assert.ok(interval >= 500 && interval <= 2000, `snapshots ${interval} ms apart`);
    }
    assert.strictEqual(await closeClient(ws), 1000);
    router.check();
  });

  it('/ws: subscribe to the demo channels, then their data in order', async () => {
    const ws = await connect(router.url('/ws'));
    assert.strictEqual((await nextMessage(ws)).type, 'welcome');
    const channels = ['stock:AAPL', 'sector:tech', 'orderbook:AAPL', 'index', 'foreign'];
    ws.send(JSON.stringify({ op: 'subscribe', id: 1, channels }));
    const states = {};
    // Each `subscribed` comes first for its channel; retained values may
    // follow each one (they belong to the channel just subscribed).
    while (Object.keys(states).length < channels.length) {
      const message = await nextMessage(ws);
      if (message.type === 'subscribed') {
        assert.strictEqual(message.id, 1, JSON.stringify(message));
        assert.strictEqual(message.channel, channels[Object.keys(states).length]);
        assert.ok(!('recovered' in message), JSON.stringify(message));
        states[message.channel] = { seq: message.seq, count: 0 };
      } else {
        assert.ok(message.channel in states, `data before its subscribed: ${JSON.stringify(message)}`);
        checkData(message.channel, message, states[message.channel]);
      }
    }
    await collect(ws, states, 6000);
    const pong = await (async () => {
      ws.send(JSON.stringify({ op: 'ping', id: 2 }));
      for (;;) {
        const m = await nextMessage(ws);
        if (m.type === 'pong') return m;
        checkData(m.channel, m, states[m.channel]);
      }
    })();
    assert.strictEqual(pong.id, 2);
    assert.strictEqual(await closeClient(ws), 1000);
    router.check();
  });

  it('/ws/stock:AAPL is not an endpoint (404)', async () => {
    const ws = new WebSocket(router.url('/ws/stock:AAPL'));
    const status = await withTimeout(new Promise((resolve, reject) => {
      ws.once('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
      ws.once('open', () => reject(new Error('upgrade accepted')));
      ws.once('error', () => {});
    }), STEP_MS, 'the refusal');
    assert.strictEqual(status, 404);
  });
});
