'use strict';
// The echo server (tests/e2e/echo_server.cpp) against Node's `ws` client.
//   cd tests/e2e && npm ci && cd ../.. && ECHO_SERVER=build/echo_server node --test tests/e2e/node/

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const WebSocket = require('ws');

const STEP_MS = 10000; // upper bound of any single wait
const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20];
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];

// ---- the server -------------------------------------------------------------

class EchoServer {
  constructor(flags = []) {
    this.flags = flags.map(String);
    this.proc = null;
    this.port = 0;
    this.exited = false;
  }

  async start() {
    const bin = process.env.ECHO_SERVER;
    if (!bin) throw new Error('ECHO_SERVER is not set: point it at the built echo_server');
    this.stderrPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'echo-node-')), 'stderr');
    const stderrFd = fs.openSync(this.stderrPath, 'w');
    const env = {
      ASAN_OPTIONS: 'halt_on_error=1:detect_leaks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      ...process.env,
    };
    this.proc = spawn(bin, ['--port', '0', ...this.flags], { stdio: ['ignore', 'pipe', stderrFd], env });
    fs.closeSync(stderrFd);
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
    });
    const lines = readline.createInterface({ input: this.proc.stdout });
    this.port = await withTimeout(new Promise((resolve, reject) => {
      lines.once('line', (line) => {
        const m = /^LISTENING (\d+)$/.exec(line.trim());
        if (m) resolve(Number(m[1]));
        else reject(new Error(`unexpected first line from echo_server: ${line}`));
      });
      this.exitPromise.then(({ code }) =>
        reject(new Error(`echo_server exited (${code}) before LISTENING: ${this.stderr()}`)));
    }), STEP_MS, 'echo_server LISTENING line');
    return this;
  }

  url(p = '/') { return `ws://127.0.0.1:${this.port}${p}`; }

  stderr() {
    try { return fs.readFileSync(this.stderrPath, 'utf8'); } catch { return ''; }
  }

  check() {
    const text = this.stderr();
    if (SANITIZER_MARKERS.some((m) => text.includes(m))) {
      throw new Error(`sanitizer report in echo_server's stderr:\n${text.slice(-8000)}`);
    }
    if (this.exited && !this.stopping) throw new Error(`echo_server died: ${text.slice(-8000)}`);
  }

  async stop() {
    if (!this.proc) return;
    const diedEarly = this.exited;
    this.stopping = true;
    let result;
    if (!this.exited) {
      process.kill(this.proc.pid, 'SIGTERM');
      result = await Promise.race([this.exitPromise, delay(5000).then(() => null)]);
      if (result === null) {
        process.kill(this.proc.pid, 'SIGKILL');
        result = await this.exitPromise;
      }
    } else {
      result = await this.exitPromise;
    }
    const text = this.stderr();
    fs.rmSync(path.dirname(this.stderrPath), { recursive: true, force: true });
    if (SANITIZER_MARKERS.some((m) => text.includes(m))) {
      throw new Error(`sanitizer report in echo_server's stderr:\n${text.slice(-8000)}`);
    }
    if (diedEarly || result.code !== 0) {
      throw new Error(`echo_server ended badly (${JSON.stringify(result)}): ${text.slice(-8000)}`);
    }
  }
}

// ---- helpers ------------------------------------------------------------------

function delay(ms) { return new Promise((resolve) => { setTimeout(resolve, ms).unref(); }); }

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A ws client that queues what it receives, so tests can await messages in order.
function connect(server, options = {}) {
  const ws = new WebSocket(server.url(), { perMessageDeflate: false, maxPayload: 0, ...options });
  ws.inbox = [];
  ws.waiters = [];
  ws.closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('message', (data, isBinary) => {
    const message = { data, isBinary };
    const waiter = ws.waiters.shift();
    if (waiter) waiter(message); else ws.inbox.push(message);
  });
  ws.on('error', (err) => { ws.lastError = err; });
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  }), STEP_MS, 'open');
}

function nextMessage(ws) {
  if (ws.inbox.length) return Promise.resolve(ws.inbox.shift());
  return withTimeout(new Promise((resolve) => ws.waiters.push(resolve)), STEP_MS, 'a message');
}

async function echo(ws, data) {
  ws.send(data);
  return nextMessage(ws);
}

async function closeQuietly(ws) {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
    ws.close(1000);
  }
  await withTimeout(ws.closed, STEP_MS, 'close').catch(() => ws.terminate());
}

function textOf(size) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
  const bytes = crypto.randomBytes(size);
  let out = '';
  for (let i = 0; i < size; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

async function assertStillServing(server) {
  const ws = await connect(server);
  try {
    const token = `still-serving-${crypto.randomBytes(4).toString('hex')}`;
    const got = await echo(ws, token);
    assert.strictEqual(got.isBinary, false);
    assert.strictEqual(got.data.toString(), token);
  } finally {
    await closeQuietly(ws);
  }
}

function withServer(flags, body) {
  return () => {
    const server = new EchoServer(flags);
    before(() => server.start());
    after(() => server.stop());
    body(server);
  };
}

// ---- tests ----------------------------------------------------------------------

describe('echo', { timeout: 60000 }, withServer(['--max-message', '2097152'], (server) => {
  for (const deflate of [false, true]) {
    it(`size matrix, text and binary, perMessageDeflate ${deflate}`, { timeout: 30000 }, async () => {
      const ws = await connect(server, { perMessageDeflate: deflate });
      try {
        if (deflate) assert.match(ws.extensions, /permessage-deflate/);
        else assert.strictEqual(ws.extensions, '');
        for (const size of SIZES) {
          const text = textOf(size);
          const t = await echo(ws, text);
          assert.strictEqual(t.isBinary, false, `text ${size}`);
          assert.strictEqual(t.data.length, size);
          assert.ok(t.data.toString() === text, `text of ${size} bytes differs`);

          const binary = crypto.randomBytes(size);
          const b = await echo(ws, binary);
          assert.strictEqual(b.isBinary, true, `binary ${size}`);
          assert.ok(Buffer.compare(b.data, binary) === 0, `binary of ${size} bytes differs`);

          const zeros = Buffer.alloc(size);
          const z = await echo(ws, zeros);
          assert.ok(z.isBinary && Buffer.compare(z.data, zeros) === 0, `zeros of ${size} bytes`);
        }
        const multibyte = 'prix \u20ac 231,40 \u6f22\u5b57 \u{1F600} '.repeat(2000);
        assert.strictEqual((await echo(ws, multibyte)).data.toString(), multibyte);
        server.check();
      } finally {
        await closeQuietly(ws);
      }
    });

    it(`fragmented sends, perMessageDeflate ${deflate}`, async () => {
      const ws = await connect(server, { perMessageDeflate: deflate });
      try {
        const parts = ['one ', '\u20ac two ', 'x'.repeat(70000), ' three'];
        parts.forEach((p, i) => ws.send(p, { fin: i === parts.length - 1 }));
        const t = await nextMessage(ws);
        assert.strictEqual(t.isBinary, false);
        assert.strictEqual(t.data.toString(), parts.join(''));

        const chunks = [crypto.randomBytes(10), Buffer.alloc(100000), crypto.randomBytes(65536)];
        chunks.forEach((c, i) => ws.send(c, { binary: true, fin: i === chunks.length - 1 }));
        const b = await nextMessage(ws);
        assert.strictEqual(b.isBinary, true);
        assert.ok(Buffer.compare(b.data, Buffer.concat(chunks)) === 0);
      } finally {
        await closeQuietly(ws);
      }
    });
  }

  it('ping is answered with a pong carrying the payload', async () => {
    const ws = await connect(server);
    try {
      for (const payload of [Buffer.alloc(0), Buffer.from('hello'), crypto.randomBytes(125)]) {
        const pong = withTimeout(new Promise((resolve) => ws.once('pong', resolve)), STEP_MS, 'pong');
        ws.ping(payload);
        assert.ok(Buffer.compare(await pong, payload) === 0);
      }
    } finally {
      await closeQuietly(ws);
    }
  });

  it('server-initiated close carries code and reason', async () => {
    const ws = await connect(server);
    ws.send('!close 4000 bye');
    const { code, reason } = await withTimeout(ws.closed, STEP_MS, 'close');
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason, 'bye');
  });

  for (const [code, reason] of [[1000, ''], [4000, 'leaving'], [3001, 'x']]) {
    it(`client close ${code} is echoed`, async () => {
      const ws = await connect(server);
      assert.strictEqual((await echo(ws, 'hi')).data.toString(), 'hi');
      ws.close(code, reason);
      const closed = await withTimeout(ws.closed, STEP_MS, 'close');
      assert.strictEqual(closed.code, code);
    });
  }

  it('unmasked frame after open closes with 1002, a fresh client is still served', async () => {
    const ws = await connect(server);
    assert.strictEqual((await echo(ws, 'before')).data.toString(), 'before');
    ws._socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // FIN text "hi", mask bit clear
    const { code } = await withTimeout(ws.closed, STEP_MS, 'close');
    assert.strictEqual(code, 1002);
    await assertStillServing(server);
    server.check();
  });

  it('invalid UTF-8 after open closes with 1007', async () => {
    const ws = await connect(server);
    const mask = crypto.randomBytes(4);
    const payload = Buffer.from([0x61, 0xff, 0x62]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    ws._socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    const { code } = await withTimeout(ws.closed, STEP_MS, 'close');
    assert.strictEqual(code, 1007);
    await assertStillServing(server);
  });
}));

describe('broadcast', { timeout: 30000 }, withServer(['--workers', '2', '--compress-threshold', '1024'], (server) => {
  it('reaches every client, compressed or not', async () => {
    const clients = [];
    try {
      for (let i = 0; i < 8; i++) clients.push(await connect(server, { perMessageDeflate: i % 2 === 1 }));
      clients.forEach((ws, i) => assert.strictEqual(ws.extensions.includes('permessage-deflate'), i % 2 === 1));
      const text = JSON.stringify({ rows: Array.from({ length: 200 }, (_, i) => ({ seq: i, px: 231.4 })) });
      assert.ok(text.length > 1024);
      clients[0].send(`!broadcast ${text}`);
      for (const ws of clients) {
        const m = await nextMessage(ws);
        assert.strictEqual(m.isBinary, false);
        assert.strictEqual(m.data.toString(), text);
      }
      clients[3].send('!broadcast small');
      for (const ws of clients) assert.strictEqual((await nextMessage(ws)).data.toString(), 'small');
    } finally {
      await Promise.all(clients.map(closeQuietly));
    }
  });
}));

describe('server pings', { timeout: 30000 }, withServer(['--ping-interval-ms', '100', '--pong-timeout-ms', '150'], (server) => {
  it('are answered by ws automatically; the connection stays open', async () => {
    const ws = await connect(server);
    try {
      let pings = 0;
      await withTimeout(new Promise((resolve) => {
        ws.on('ping', () => { if (++pings === 6) resolve(); });
      }), 5000, 'six server pings');
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      assert.strictEqual((await echo(ws, 'alive')).data.toString(), 'alive');
    } finally {
      await closeQuietly(ws);
    }
  });
}));
