// The client against a scripted fake server, with a fake clock: exact
// reconnect timing, resume and its fallback to `since`, duplicates dropped
// by seq, gaps, heartbeats, token refresh, queued subscriptions.
//   node --test web/test/

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { WsRouterClient } from '../client.js';
import { FakeClock, FakeServer, fakeJwt, scriptedRandom } from './support/fakes.js';

const URL = 'ws://router.test/ws';

function setup(options = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const states = [];
  const gaps = [];
  const errors = [];
  const client = new WsRouterClient({
    url: URL,
    WebSocket: server.WebSocket,
    clock,
    random: () => 0.5,
    onState: (state, detail) => states.push({ state, ...detail }),
    onGap: (gap) => gaps.push(gap),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { clock, server, client, states, gaps, errors };
}

function data(channel, seq, extra = {}) {
  return { type: 'price_update', channel, seq, ts: 1, data: { seq, ...extra } };
}

// Subscribes `channels`, collecting what each delivers.
function collect(client, channels) {
  const got = {};
  for (const channel of channels) {
    got[channel] = [];
    client.subscribe(channel, (message) => got[channel].push(message.seq));
  }
  return got;
}

describe('connecting', () => {
  it('offers wsrouter.v1, with bearer.<token> when there is a token', () => {
    const bare = setup();
    assert.equal(bare.server.last.url, URL);
    assert.deepEqual(bare.server.last.protocols, ['wsrouter.v1']);
    const withToken = setup({ token: 'abc.def' });
    assert.deepEqual(withToken.server.last.protocols, ['wsrouter.v1', 'bearer.abc.def']);
    const fromFunction = setup({ token: () => 'fresh' });
    assert.deepEqual(fromFunction.server.last.protocols, ['wsrouter.v1', 'bearer.fresh']);
  });

  it('reports connecting, then open on the welcome', () => {
    const { server, states, client } = setup();
    assert.deepEqual(states.map((s) => s.state), ['connecting']);
    assert.equal(client.state, 'connecting');
    server.last.welcome();
    assert.deepEqual(states.map((s) => s.state), ['connecting', 'open']);
    assert.equal(states[1].session, 's-0');
  });

  it('waits for an async token before connecting', async () => {
    let release;
    const { server } = setup({ token: () => new Promise((resolve) => { release = resolve; }) });
    assert.equal(server.count, 0);
    release('later');
    await Promise.resolve();
    assert.equal(server.count, 1);
    assert.deepEqual(server.last.protocols, ['wsrouter.v1', 'bearer.later']);
  });

  it('does not connect before connect() with autoConnect false', () => {
    const { server, client } = setup({ autoConnect: false });
    assert.equal(server.count, 0);
    client.connect();
    assert.equal(server.count, 1);
  });
});

describe('subscriptions', () => {
  it('queues subscribe calls made offline and sends them in one request', () => {
    const { server, client } = setup();
    const got = collect(client, ['stock:AAPL', 'index']);
    assert.equal(server.last.sent.length, 0, 'nothing is sent before the welcome');
    server.last.welcome();
    assert.deepEqual(server.last.sent, [{ op: 'subscribe', id: 1, channels: ['stock:AAPL', 'index'] }]);
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'stock:AAPL', seq: 10 });
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'index', seq: 4 });
    server.last.deliver(data('index', 4)); // the retained value: the subscribed seq itself
    server.last.deliver(data('stock:AAPL', 11));
    server.last.deliver(data('index', 5));
    assert.deepEqual(got, { 'stock:AAPL': [11], index: [4, 5] });
  });

  it('sends a subscribe at once when open, with since when asked', async () => {
    const { server, client } = setup();
    server.last.welcome();
    const got = [];
    client.subscribe('market', (m) => got.push(m.seq), { since: 7 });
    await Promise.resolve();
    assert.deepEqual(server.last.sent, [{ op: 'subscribe', id: 1, channels: ['market'], since: { market: 7 } }]);
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'market', seq: 9, recovered: true });
    for (const seq of [8, 9, 10]) server.last.deliver(data('market', seq));
    assert.deepEqual(got, [8, 9, 10]);
  });

  it('calls only the channel\'s own callback, and the latest one', async () => {
    const { server, client } = setup();
    server.last.welcome();
    const first = [];
    const second = [];
    client.subscribe('a', (m) => first.push(m.seq));
    await Promise.resolve();
    client.subscribe('a', (m) => second.push(m.seq)); // replaces, sends nothing more
    await Promise.resolve();
    assert.equal(server.last.sentOps('subscribe').length, 1);
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'a', seq: 0 });
    server.last.deliver(data('a', 1));
    server.last.deliver(data('b', 1)); // not subscribed: ignored
    assert.deepEqual(first, []);
    assert.deepEqual(second, [1]);
  });

  it('drops duplicates by seq and reports an unannounced skip as a gap', () => {
    const { server, client, gaps } = setup();
    const got = collect(client, ['a']);
    server.last.welcome();
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'a', seq: 0 });
    for (const seq of [1, 2, 2, 1, 3, 6, 5, 7]) server.last.deliver(data('a', seq));
    assert.deepEqual(got.a, [1, 2, 3, 6, 7]);
    assert.equal(client.stats.duplicates, 3);
    assert.deepEqual(gaps, [{ type: 'gap', channel: 'a', from: 4, to: 5, reason: 'missing' }]);
  });

  it('passes the server\'s gap on and moves past it', () => {
    const { server, client, gaps } = setup();
    const got = collect(client, ['a']);
    server.last.welcome();
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'a', seq: 0 });
    server.last.deliver(data('a', 1));
    const gap = { type: 'gap', channel: 'a', from: 2, to: 5, reason: 'slow_consumer' };
    server.last.deliver(gap);
    server.last.deliver(data('a', 6));
    assert.deepEqual(got.a, [1, 6]);
    assert.deepEqual(gaps, [gap]);
  });

  it('subscribe calls made together while open leave in one message', async () => {
    const { server, client } = setup();
    server.last.welcome();
    for (const channel of ['a', 'b', 'c']) client.subscribe(channel, () => {});
    assert.equal(server.last.sent.length, 0);
    await Promise.resolve();
    assert.deepEqual(server.last.sent, [{ op: 'subscribe', id: 1, channels: ['a', 'b', 'c'] }]);
    client.subscribe('d', () => {});
    await Promise.resolve();
    assert.deepEqual(server.last.sent.at(-1), { op: 'subscribe', id: 2, channels: ['d'] });
  });

  it('unsubscribes: the op is sent and later messages are ignored', () => {
    const { server, client } = setup();
    const got = collect(client, ['a']);
    server.last.welcome();
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'a', seq: 0 });
    server.last.deliver(data('a', 1));
    client.unsubscribe('a');
    assert.deepEqual(server.last.sent.at(-1), { op: 'unsubscribe', id: 2, channels: ['a'] });
    server.last.deliver(data('a', 2));
    assert.deepEqual(got.a, [1]);
    assert.equal(client.lastSeq('a'), null);
  });

  it('an unsubscribe while offline leaves the channel out of the next subscribe', () => {
    const { server, client } = setup();
    collect(client, ['a', 'b']);
    client.unsubscribe('a');
    server.last.welcome();
    assert.deepEqual(server.last.sent, [{ op: 'subscribe', id: 1, channels: ['b'] }]);
  });

  it('a refused channel is reported with its name and dropped', () => {
    const { server, client, errors } = setup();
    collect(client, ['user:7', 'index']);
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 1, code: 'FORBIDDEN', message: 'channel user:7 is not allowed' });
    server.last.deliver({ type: 'subscribed', id: 1, channel: 'index', seq: 3 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'FORBIDDEN');
    assert.equal(errors[0].channel, 'user:7');
    assert.equal(client.lastSeq('user:7'), null);
    assert.equal(client.lastSeq('index'), 3);
    server.last.drop(1006);
    client.clock.advance(250);
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 2, code: 'RESUME_FAILED', message: '' });
    assert.deepEqual(server.last.sentOps('subscribe')[0].channels, ['index']);
  });

  it('splits a long subscribe into requests of at most 50 channels', () => {
    const { server, client } = setup();
    const channels = Array.from({ length: 120 }, (_, i) => `stock:S${i}`);
    collect(client, channels);
    server.last.welcome();
    const sent = server.last.sentOps('subscribe');
    assert.deepEqual(sent.map((m) => m.channels.length), [50, 50, 20]);
    assert.deepEqual(sent.flatMap((m) => m.channels), channels);
  });
});

describe('reconnecting', () => {
  // Opens a socket at exactly `at` ms after `from` (not a ms before).
  function expectReconnectAfter(clock, server, ms) {
    const before = server.count;
    clock.advance(ms - 1);
    assert.equal(server.count, before, `reconnected before ${ms} ms`);
    clock.advance(1);
    assert.equal(server.count, before + 1, `no reconnect at ${ms} ms`);
  }

  it('backs off exponentially with full jitter, bounded, and never gives up', () => {
    const { clock, server, states } = setup({ random: scriptedRandom(0.5) });
    server.last.drop(1006);
    // min(30000, 500 * 2^n) * 0.5
    for (const ms of [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]) {
      expectReconnectAfter(clock, server, ms);
      server.last.drop(1006);
    }
    const waits = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs);
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000, 15000]);
    assert.deepEqual(states.filter((s) => s.state === 'reconnecting').slice(0, 3).map((s) => s.attempt), [1, 2, 3]);
  });

  it('draws each wait uniformly from the whole range (full jitter)', () => {
    const { clock, server } = setup({ random: scriptedRandom(0, 0.999, 0.25) });
    server.last.drop(1006);
    assert.equal(server.count, 1);
    clock.advance(0); // 0 * 500: at once, on the next turn of the clock
    assert.equal(server.count, 2);
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 999); // floor(0.999 * 1000)
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 500); // 0.25 * 2000
  });

  it('after 1001 waits a random delay of up to goingAwayDelayMs first', () => {
    const { clock, server, states } = setup({ random: scriptedRandom(0.9, 0.5) });
    server.last.welcome();
    server.last.drop(1001, 'server going away');
    expectReconnectAfter(clock, server, 4500); // 0.9 * 5000, not 0.9 * 500
    assert.equal(states.at(-1).code, 1001);
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 500); // then the backoff goes on: 0.5 * 1000
  });

  it('resets the backoff after a connection that lasted', () => {
    const { clock, server } = setup();
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 250);
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 500);
    server.last.welcome();
    clock.advance(4999); // not long enough
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 1000);
    server.last.welcome();
    clock.advance(5000);
    server.last.drop(1006);
    expectReconnectAfter(clock, server, 250);
  });

  it('gives up on a connection that never says welcome, and tries again', () => {
    const { clock, server, states } = setup({ connectTimeoutMs: 3000 });
    clock.advance(2999);
    assert.equal(server.last.closedWith, null);
    clock.advance(1);
    assert.ok(server.last.closedWith, 'the silent socket is closed');
    assert.equal(states.at(-1).state, 'reconnecting');
    expectReconnectAfter(clock, server, 250);
  });

  it('close() stops for good', () => {
    const { clock, server, client, states } = setup();
    server.last.welcome();
    client.close();
    assert.equal(states.at(-1).state, 'closed');
    assert.deepEqual(server.last.closedWith, { code: 1000, reason: 'client closed' });
    server.last.drop(1000);
    clock.advance(600000);
    assert.equal(server.count, 1);
  });
});

describe('recovering after a reconnect', () => {
  // A client subscribed to a and b, having seen a up to 5 and b up to 2.
  function established(options) {
    const s = setup(options);
    s.got = collect(s.client, ['a', 'b']);
    s.server.last.welcome();
    s.server.last.deliver({ type: 'subscribed', id: 1, channel: 'a', seq: 3 });
    s.server.last.deliver({ type: 'subscribed', id: 1, channel: 'b', seq: 2 });
    for (const seq of [4, 5]) s.server.last.deliver(data('a', seq));
    s.server.last.drop(1006);
    s.clock.advance(250);
    return s;
  }

  it('asks to resume the old session first', () => {
    const { server } = established();
    server.last.welcome({ session: 's-new', resume: 'r-new' });
    assert.deepEqual(server.last.sent,
      [{ op: 'resume', id: 2, session: 's-0', resume: 'r-0', since: { a: 5, b: 2 } }]);
  });

  it('leaves the channels dropped while offline that the resumed session brought back', () => {
    const { client, server } = established();
    client.unsubscribe('b');
    server.last.welcome();
    assert.deepEqual(server.last.sent.at(-1).since, { a: 5 });
    server.last.deliver({ type: 'resumed', id: 2, channels: ['a', 'b'] });
    assert.deepEqual(server.last.sentOps('unsubscribe'), [{ op: 'unsubscribe', id: 3, channels: ['b'] }]);
    assert.equal(server.last.sentOps('subscribe').length, 0);
  });

  it('falls back to since per channel on RESUME_FAILED; each seq once', () => {
    const { server, got, gaps } = established();
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 2, code: 'RESUME_FAILED', message: 'not available' });
    assert.deepEqual(server.last.sent.at(-1),
      { op: 'subscribe', id: 3, channels: ['a', 'b'], since: { a: 5, b: 2 } });
    server.last.deliver({ type: 'subscribed', id: 3, channel: 'a', seq: 8, recovered: true });
    for (const seq of [5, 6, 7, 8]) server.last.deliver(data('a', seq)); // 5 again: dropped
    server.last.deliver({ type: 'subscribed', id: 3, channel: 'b', seq: 2, recovered: true });
    server.last.deliver(data('a', 9));
    server.last.deliver(data('b', 3));
    assert.deepEqual(got, { a: [4, 5, 6, 7, 8, 9], b: [3] });
    assert.deepEqual(gaps, []);
  });

  it('falls back to since when resume is not answered in time', () => {
    const { clock, server } = established({ resumeTimeoutMs: 2000 });
    server.last.welcome();
    clock.advance(1999);
    assert.equal(server.last.sentOps('subscribe').length, 0);
    clock.advance(1);
    assert.deepEqual(server.last.sentOps('subscribe')[0].since, { a: 5, b: 2 });
  });

  it('a resumed session needs no subscribe; replayed duplicates are dropped', () => {
    const { server, got } = established();
    server.last.welcome();
    server.last.deliver({ type: 'resumed', id: 2, channels: ['a', 'b'] });
    assert.equal(server.last.sentOps('subscribe').length, 0);
    for (const seq of [4, 5, 6]) server.last.deliver(data('a', seq));
    assert.deepEqual(got.a, [4, 5, 6]);
  });

  it('reports what history could not replay', () => {
    const { server, got, gaps } = established();
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 2, code: 'RESUME_FAILED', message: '' });
    server.last.deliver({ type: 'subscribed', id: 3, channel: 'a', seq: 40, recovered: false });
    const gap = { type: 'gap', channel: 'a', from: 6, to: 30, reason: 'not_in_history' };
    server.last.deliver(gap);
    for (let seq = 31; seq <= 41; ++seq) server.last.deliver(data('a', seq));
    assert.deepEqual(gaps, [gap]);
    assert.deepEqual(got.a, [4, 5, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41]);
  });

  it('a seq that went back (a restarted router) is a reset gap, then delivery goes on', () => {
    const { server, got, gaps } = established();
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 2, code: 'RESUME_FAILED', message: '' });
    server.last.deliver({ type: 'subscribed', id: 3, channel: 'a', seq: 2, recovered: true });
    server.last.deliver(data('a', 3));
    assert.deepEqual(gaps, [{ type: 'gap', channel: 'a', from: 6, to: null, reason: 'reset', seq: 2 }]);
    assert.deepEqual(got.a, [4, 5, 3]);
  });

  it('subscriptions made while offline join the next connection', () => {
    const { server, client } = established();
    client.subscribe('c', () => {});
    server.last.welcome();
    server.last.deliver({ type: 'error', id: 2, code: 'RESUME_FAILED', message: '' });
    assert.deepEqual(server.last.sentOps('subscribe')[0],
      { op: 'subscribe', id: 3, channels: ['a', 'b', 'c'], since: { a: 5, b: 2 } });
  });
});

describe('heartbeats', () => {
  it('pings after a silent heartbeat interval and drops a connection that stays silent', () => {
    const { clock, server, states } = setup({ pongTimeoutMs: 500 });
    server.last.welcome({ heartbeat_ms: 1000 });
    clock.advance(600);
    server.last.deliver({ type: 'pong', id: 99 }); // anything counts as life
    clock.advance(999);
    assert.equal(server.last.sentOps('ping').length, 0, 'not silent for a whole interval yet');
    clock.advance(1);
    assert.equal(server.last.sentOps('ping').length, 1);
    clock.advance(499);
    assert.equal(server.last.closedWith, null);
    clock.advance(1);
    assert.ok(server.last.closedWith, 'a dead connection is dropped');
    assert.equal(states.at(-1).state, 'reconnecting');
    assert.equal(states.at(-1).reason, 'heartbeat missed');
    clock.advance(250);
    assert.equal(server.count, 2);
  });

  it('an answered ping keeps the connection', () => {
    const { clock, server } = setup({ pongTimeoutMs: 500 });
    server.last.welcome({ heartbeat_ms: 1000 });
    for (let i = 0; i < 5; ++i) {
      clock.advance(1000);
      const ping = server.last.sentOps('ping').at(-1);
      assert.ok(ping, `ping ${i}`);
      clock.advance(100);
      server.last.deliver({ type: 'pong', id: ping.id, server_time: 1 });
    }
    assert.equal(server.last.closedWith, null);
    assert.equal(server.count, 1);
  });
});

describe('tokens', () => {
  it('refreshes a JWT before it expires with the auth op', () => {
    const clock = new FakeClock();
    const nowS = Math.floor(clock.now() / 1000);
    let issued = 0;
    const token = () => fakeJwt({ sub: 'demo', exp: nowS + 120 * ++issued });
    const { server } = setup({ clock, token, refreshBeforeMs: 30000 });
    server.last.welcome({ server_time: clock.now(), heartbeat_ms: 1000000 });
    assert.equal(issued, 1);
    clock.advance(90000 - 1); // exp in 120 s, refresh 30 s before
    assert.equal(server.last.sentOps('auth').length, 0);
    clock.advance(1);
    const auth = server.last.sentOps('auth');
    assert.equal(auth.length, 1);
    assert.equal(auth[0].token, fakeJwt({ sub: 'demo', exp: nowS + 240 }));
    // The server's answer tells the new expiry; the next refresh follows it.
    server.last.deliver({ type: 'authenticated', id: auth[0].id, expires_at: nowS + 240 });
    clock.advance(240000 - 30000 - 90000 - 1);
    assert.equal(server.last.sentOps('auth').length, 1);
    clock.advance(1);
    assert.equal(server.last.sentOps('auth').length, 2);
  });

  it('fetches a fresh token after 4001 (expired)', () => {
    let issued = 0;
    const { clock, server } = setup({ token: () => `t${++issued}` });
    server.last.welcome();
    server.last.drop(4001, 'token expired');
    clock.advance(250);
    assert.deepEqual(server.last.protocols, ['wsrouter.v1', 'bearer.t2']);
  });

  it('a fixed string token is never refreshed', () => {
    const clock = new FakeClock();
    const token = fakeJwt({ exp: Math.floor(clock.now() / 1000) + 60 });
    const { server } = setup({ clock, token });
    server.last.welcome({ heartbeat_ms: 1000000 });
    clock.advance(120000);
    assert.equal(server.last.sentOps('auth').length, 0);
  });
});
