// wsrouter browser client: an ES module with no dependencies and no build
// step. Served by the router at /client.js; also the `wsrouter-client`
// package (web/package.json) for bundlers and for Node with a WebSocket
// implementation passed in. Types: client.d.ts. Wire contract: PROTOCOL.md.
//
//   import { WsRouterClient } from '/client.js';
//   const client = new WsRouterClient({ token: () => fetchToken() });
//   client.subscribe('stock:AAPL', (m) => console.log(m.seq, m.data.price));
//
// What it promises the application:
// - it never gives up: a lost connection is reconnected with exponential
//   backoff and full jitter (bounded), after a random delay when the server
//   said 1001 (going away), so a restarted pod's clients do not come back at once;
// - it never loses track: on reconnect it asks to resume the session, and
//   when that fails resubscribes each channel with `since` its last `seq`;
//   a message is delivered once (duplicates are dropped by `seq`), and what
//   cannot be recovered is reported to the `gap` callback, never skipped
//   silently;
// - a dead connection (no message and no answer to a ping) is noticed within
//   about two heartbeat intervals and replaced;
// - a token given as a function is fetched for every connection and again
//   before it expires, then handed to the server in-band (`auth`);
// - subscribe() and unsubscribe() work at any time: while offline they wait.

export const SUBPROTOCOL = 'wsrouter.v1';

const DEFAULTS = {
  backoffInitialMs: 500, // the first reconnect waits up to this long
  backoffMaxMs: 30000, // no wait is ever drawn from a longer range
  backoffResetAfterMs: 5000, // a connection this old resets the backoff
  goingAwayDelayMs: 5000, // after 1001: a random wait up to this long first
  connectTimeoutMs: 10000, // no welcome this long after connecting: try again
  heartbeatMs: 30000, // silence before a ping, until the welcome says otherwise
  pongTimeoutMs: 10000, // silence after that ping before the connection counts as dead
  resumeTimeoutMs: 5000, // no answer to `resume`: resubscribe instead
  refreshBeforeMs: 30000, // fetch a fresh token this long before the current one expires
  maxChannelsPerRequest: 50, // the router's limit per subscribe message
};

// Close codes (PROTOCOL.md).
const GOING_AWAY = 1001;
const TOKEN_EXPIRED = 4001;

const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle),
};

// The exp claim of a JWT, in ms, or null for a token that is not one: only
// to know when to refresh, never trusted for anything else.
function jwtExpiryMs(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const text = typeof atob === 'function'
      ? atob(base64 + '==='.slice((base64.length + 3) % 4))
      : Buffer.from(base64, 'base64').toString('binary');
    const exp = JSON.parse(text).exp;
    return Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function';
}

function defaultUrl() {
  const where = globalThis.location;
  if (!where || !where.host) throw new Error('WsRouterClient: no url given and no page location to derive it from');
  return `${where.protocol === 'https:' ? 'wss' : 'ws'}://${where.host}/ws`;
}

export class WsRouterClient {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.url = options.url || defaultUrl();
    this.WebSocketImpl = options.WebSocket || globalThis.WebSocket;
    if (typeof this.WebSocketImpl !== 'function') {
      throw new Error('WsRouterClient: no WebSocket implementation (pass options.WebSocket in Node)');
    }
    this.clock = options.clock || realClock;
    this.random = options.random || Math.random;
    this.tokenSource = options.token;

    this.state = 'closed';
    this.stateListeners = options.onState ? [options.onState] : [];
    this.gapListeners = options.onGap ? [options.onGap] : [];
    this.errorListeners = options.onError ? [options.onError] : [];
    // channel -> { callback, lastSeq, fresh, status, sinceSent }
    //   lastSeq: the last seq given to the application (null: none yet)
    //   fresh: a plain subscribe was answered; the retained value (same seq) may follow
    //   status: 'pending' (to send), 'subscribing' (sent), 'subscribed'
    this.channels = new Map();
    this.requests = new Map(); // id -> { kind, channels: [...] awaiting an answer, in order }
    this.nextId = 1;
    this.socket = null;
    this.session = null; // { session, resume } from the last welcome
    this.attempt = 0;
    this.timers = {};
    this.token = null;
    this.tokenExpiresAt = null;
    this.serverOffsetMs = 0; // server clock minus ours, from welcome
    this.stopped = false;
    this.stats = { received: 0, delivered: 0, duplicates: 0, gaps: 0, reconnects: 0 };

    if (options.autoConnect !== false) this.connect();
  }

  // ---- Public API -------------------------------------------------------

  // Calls `callback(message)` for every data message of `channel` (one
  // callback per channel: subscribing again replaces it). `since`: deliver
  // every message after that seq first (from the channel's history).
  // Returns a function that unsubscribes.
  subscribe(channel, callback, { since } = {}) {
    if (typeof callback !== 'function') throw new TypeError('subscribe: callback must be a function');
    const existing = this.channels.get(channel);
    if (existing) {
      existing.callback = callback;
    } else {
      this.channels.set(channel, {
        callback,
        lastSeq: Number.isInteger(since) ? since : null,
        fresh: false,
        status: 'pending',
        sinceSent: null,
      });
      if (this.state === 'open') this.flushSoon();
    }
    return () => this.unsubscribe(channel);
  }

  unsubscribe(channel) {
    const entry = this.channels.get(channel);
    if (!entry) return;
    this.channels.delete(channel);
    if (this.state === 'open' && entry.status !== 'pending') {
      this.send({ op: 'unsubscribe', id: this.nextId++, channels: [channel] });
    }
  }

  // The last seq delivered on `channel`, or null.
  lastSeq(channel) {
    const entry = this.channels.get(channel);
    return entry ? entry.lastSeq : null;
  }

  onState(listener) { this.stateListeners.push(listener); return this; }
  onGap(listener) { this.gapListeners.push(listener); return this; }
  onError(listener) { this.errorListeners.push(listener); return this; }

  connect() {
    this.stopped = false;
    if (this.socket || this.timers.reconnect) return;
    this.openedAt = null;
    this.setState(this.session ? 'reconnecting' : 'connecting', {});
    this.open();
  }

  // Closes for good (state 'closed'); connect() starts again.
  close() {
    this.stopped = true;
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
    const socket = this.socket;
    this.detach();
    if (socket) {
      try { socket.close(1000, 'client closed'); } catch { /* already closing */ }
    }
    this.setState('closed', { code: 1000 });
  }

  // ---- Connection lifecycle -------------------------------------------------

  open() {
    const source = this.tokenSource;
    const token = typeof source === 'function' ? source() : source;
    if (isThenable(token)) {
      token.then((value) => this.openWith(value), (error) => {
        this.emitError({ code: 'TOKEN_SOURCE', message: String(error && error.message || error) });
        this.scheduleReconnect({ code: 1006, reason: 'token source failed' });
      });
    } else {
      this.openWith(token);
    }
  }

  openWith(token) {
    if (this.stopped) return;
    this.setToken(token);
    const protocols = [SUBPROTOCOL];
    if (this.token) protocols.push(`bearer.${this.token}`);
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url, protocols);
    } catch (error) {
      this.emitError({ code: 'CONNECT', message: String(error && error.message || error) });
      this.scheduleReconnect({ code: 1006, reason: 'could not connect' });
      return;
    }
    this.socket = socket;
    this.openedAt = null;
    socket.onmessage = (event) => { if (this.socket === socket) this.onMessage(event.data); };
    socket.onclose = (event) => { if (this.socket === socket) this.onSocketClosed(event.code, event.reason); };
    socket.onerror = () => { /* a close event follows */ };
    this.setTimer('connect', this.options.connectTimeoutMs, () => this.abandon('no welcome in time'));
  }

  // Drops the current socket without waiting for a close handshake (a dead
  // connection would never complete one) and reconnects.
  abandon(reason) {
    const socket = this.socket;
    this.detach();
    if (socket) {
      try { socket.close(1000, reason); } catch { /* not open yet */ }
    }
    this.scheduleReconnect({ code: 1006, reason });
  }

  detach() {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onmessage = socket.onclose = null;
      // Closing a socket that is still connecting makes Node's `ws` report an
      // error; with no handler that is an uncaught exception. Whatever a
      // dropped socket reports is of no interest.
      socket.onerror = () => {};
    }
    this.clearTimer('connect');
    this.clearTimer('heartbeat');
    this.clearTimer('resume');
    this.clearTimer('refresh');
    this.requests.clear();
    for (const entry of this.channels.values()) {
      if (entry.status !== 'pending') entry.status = 'pending';
    }
  }

  onSocketClosed(code, reason) {
    this.detach();
    if (this.stopped) return;
    if (code === TOKEN_EXPIRED) this.token = null; // fetch a fresh one
    this.scheduleReconnect({ code, reason });
  }

  // Full jitter: a wait drawn uniformly from [0, min(max, initial * 2^attempt)).
  // After 1001 (the server is going away, and all its clients with it) the
  // range is at least goingAwayDelayMs, so they come back spread out.
  scheduleReconnect(detail) {
    if (this.stopped) return;
    const o = this.options;
    if (this.openedAt !== null && this.openedAt !== undefined &&
        this.clock.now() - this.openedAt >= o.backoffResetAfterMs) {
      this.attempt = 0;
    }
    this.openedAt = null;
    const backoff = Math.min(o.backoffMaxMs, o.backoffInitialMs * 2 ** Math.min(this.attempt, 30));
    const range = detail.code === GOING_AWAY ? Math.max(o.goingAwayDelayMs, backoff) : backoff;
    const delayMs = Math.floor(this.random() * range);
    this.attempt += 1;
    this.stats.reconnects += 1;
    this.setState('reconnecting', { ...detail, attempt: this.attempt, delayMs });
    this.setTimer('reconnect', delayMs, () => this.open());
  }

  // ---- Messages in ----------------------------------------------------------

  onMessage(text) {
    let message;
    try {
      message = JSON.parse(typeof text === 'string' ? text : String(text));
    } catch {
      this.emitError({ code: 'BAD_MESSAGE', message: 'a message that is not JSON' });
      return;
    }
    this.stats.received += 1;
    this.lastReceivedAt = this.clock.now();
    this.pingSentAt = null;
    switch (message.type) {
      case 'welcome': return this.onWelcome(message);
      case 'subscribed': return this.onSubscribed(message);
      case 'unsubscribed': return this.answered(message.id, message.channel);
      case 'gap': return this.onGapMessage(message);
      case 'error': return this.onErrorMessage(message);
      case 'authenticated': return this.onAuthenticated(message);
      case 'resumed': return this.onResumed(message);
      case 'pong': return undefined;
      default: return this.onData(message);
    }
  }

  onWelcome(welcome) {
    this.clearTimer('connect');
    this.openedAt = this.clock.now();
    if (Number.isFinite(welcome.server_time)) this.serverOffsetMs = welcome.server_time - this.clock.now();
    const heartbeat = Number.isInteger(welcome.heartbeat_ms) && welcome.heartbeat_ms > 0
      ? welcome.heartbeat_ms : this.options.heartbeatMs;
    this.heartbeatMs = heartbeat;
    const previous = this.session;
    this.session = { session: welcome.session, resume: welcome.resume };
    this.setState('open', { session: welcome.session });
    this.armHeartbeat();
    this.scheduleRefresh();
    const known = [...this.channels.values()].some((e) => e.lastSeq !== null);
    if (previous && previous.session && previous.resume && known) {
      const id = this.nextId++;
      this.requests.set(id, { kind: 'resume', channels: [] });
      // What this client really received: the router knows only what it
      // wrote, and the network may have lost the end of it.
      const since = {};
      for (const [channel, entry] of this.channels) {
        entry.sinceSent = entry.lastSeq;
        if (entry.lastSeq !== null) since[channel] = entry.lastSeq;
      }
      this.send({ op: 'resume', id, session: previous.session, resume: previous.resume, since });
      this.setTimer('resume', this.options.resumeTimeoutMs, () => {
        this.requests.delete(id);
        this.resubscribeAll();
      });
    } else {
      this.resubscribeAll();
    }
  }

  // The server restored the session: every channel it had is subscribed
  // again and what was missed is replayed (or a gap says what was not).
  onResumed(message) {
    const request = this.requests.get(message.id);
    if (!request || request.kind !== 'resume') return;
    this.requests.delete(message.id);
    this.clearTimer('resume');
    const restored = Array.isArray(message.channels) ? new Set(message.channels) : null;
    for (const [channel, entry] of this.channels) {
      if (entry.lastSeq !== null && (!restored || restored.has(channel))) entry.status = 'subscribed';
    }
    // Channels the application left while offline came back with the session.
    const unwanted = restored ? [...restored].filter((c) => !this.channels.has(c)) : [];
    if (unwanted.length) this.send({ op: 'unsubscribe', id: this.nextId++, channels: unwanted });
    this.resubscribeAll(); // what the old session did not have
  }

  // Subscribe calls made in one go (one turn of the event loop) leave in one
  // message: the router counts client messages against a per-minute limit.
  flushSoon() {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.state === 'open' && !this.requestsOfKind('resume')) this.resubscribeAll();
    });
  }

  requestsOfKind(kind) {
    for (const request of this.requests.values()) if (request.kind === kind) return true;
    return false;
  }

  resubscribeAll() {
    this.clearTimer('resume');
    const pending = [...this.channels].filter(([, e]) => e.status === 'pending').map(([c]) => c);
    this.sendSubscribe(pending);
  }

  sendSubscribe(channels) {
    const max = this.options.maxChannelsPerRequest;
    for (let i = 0; i < channels.length; i += max) {
      const batch = channels.slice(i, i + max);
      const id = this.nextId++;
      const message = { op: 'subscribe', id, channels: batch };
      const since = {};
      for (const channel of batch) {
        const entry = this.channels.get(channel);
        entry.status = 'subscribing';
        entry.sinceSent = entry.lastSeq;
        if (entry.lastSeq !== null) since[channel] = entry.lastSeq;
      }
      if (Object.keys(since).length) message.since = since;
      this.requests.set(id, { kind: 'subscribe', channels: [...batch] });
      this.send(message);
    }
  }

  // The router answers a request's channels in order, one answer each
  // (`subscribed`, `unsubscribed` or `error`): the channel an answer is for
  // is the first one still waiting, when the answer does not name it.
  answered(id, channel) {
    const request = this.requests.get(id);
    if (!request) return channel;
    const waiting = request.channels;
    const at = channel !== undefined ? waiting.indexOf(channel) : 0;
    const which = at >= 0 ? waiting.splice(at, 1)[0] : channel;
    if (!waiting.length && request.kind !== 'resume') this.requests.delete(id);
    return which;
  }

  onSubscribed(message) {
    this.answered(message.id, message.channel);
    const entry = this.channels.get(message.channel);
    if (!entry) return;
    entry.status = 'subscribed';
    const seq = message.seq;
    if (!Number.isInteger(seq)) return;
    if ('recovered' in message && entry.sinceSent !== null && seq < entry.sinceSent) {
      // The channel's seq went back: the router restarted without shared
      // history, and nothing can say what was published meanwhile.
      this.emitGap({ type: 'gap', channel: message.channel, from: entry.sinceSent + 1, to: null,
        reason: 'reset', seq });
      entry.lastSeq = seq;
      entry.fresh = false;
    } else if (entry.lastSeq === null) {
      // A plain subscribe: everything after seq follows, and the retained
      // value (seq itself) may come first.
      entry.lastSeq = seq;
      entry.fresh = true;
    }
  }

  onData(message) {
    const entry = this.channels.get(message.channel);
    if (!entry || !Number.isInteger(message.seq)) return; // not ours (any more)
    const seq = message.seq;
    const retained = entry.fresh && seq === entry.lastSeq;
    entry.fresh = false;
    if (entry.lastSeq !== null && seq <= entry.lastSeq && !retained) {
      this.stats.duplicates += 1;
      return;
    }
    if (entry.lastSeq !== null && seq > entry.lastSeq + 1) {
      // Never announced: still, the application must know.
      this.emitGap({ type: 'gap', channel: message.channel, from: entry.lastSeq + 1, to: seq - 1,
        reason: 'missing' });
    }
    entry.lastSeq = seq;
    this.stats.delivered += 1;
    try {
      entry.callback(message);
    } catch (error) {
      this.emitError({ code: 'CALLBACK', channel: message.channel, message: String(error && error.message || error) });
    }
  }

  onGapMessage(gap) {
    const entry = this.channels.get(gap.channel);
    if (!entry) return;
    if (Number.isInteger(gap.to) && (entry.lastSeq === null || gap.to > entry.lastSeq)) {
      entry.lastSeq = gap.to;
    }
    entry.fresh = false;
    this.emitGap(gap);
  }

  onErrorMessage(error) {
    const request = this.requests.get(error.id);
    if (request && request.kind === 'resume') {
      // RESUME_FAILED (or anything else): fall back to `since` per channel.
      this.requests.delete(error.id);
      this.resubscribeAll();
      return;
    }
    let channel;
    if (request && request.kind === 'subscribe') {
      channel = this.answered(error.id);
      const entry = this.channels.get(channel);
      if (entry) {
        if (error.code === 'RATE_LIMITED') {
          entry.status = 'pending';
          this.setTimer('retry', this.options.backoffInitialMs * 4, () => {
            if (this.state === 'open') this.resubscribeAll();
          });
        } else {
          this.channels.delete(channel); // refused for good: FORBIDDEN, INVALID_CHANNEL...
        }
      }
    }
    this.emitError({ ...error, channel });
  }

  onAuthenticated(message) {
    if (Number.isFinite(message.expires_at) && message.expires_at > 0) {
      this.tokenExpiresAt = message.expires_at * 1000 - this.serverOffsetMs;
    }
    this.scheduleRefresh();
  }

  // ---- Liveness ---------------------------------------------------------------

  // Browsers answer the server's pings without telling the page, so
  // liveness is judged by what arrives: after a heartbeat interval of
  // silence a `ping` op is sent, and silence for pongTimeoutMs after it
  // means the connection is dead.
  armHeartbeat() {
    this.lastReceivedAt = this.clock.now();
    this.pingSentAt = null;
    this.setTimer('heartbeat', this.heartbeatMs, () => this.checkHeartbeat());
  }

  checkHeartbeat() {
    const now = this.clock.now();
    if (this.pingSentAt !== null && this.pingSentAt !== undefined) {
      if (now - this.pingSentAt >= this.options.pongTimeoutMs) {
        this.abandon('heartbeat missed');
        return;
      }
      this.setTimer('heartbeat', this.pingSentAt + this.options.pongTimeoutMs - now, () => this.checkHeartbeat());
      return;
    }
    const silent = now - this.lastReceivedAt;
    if (silent >= this.heartbeatMs) {
      this.send({ op: 'ping', id: this.nextId++ });
      this.pingSentAt = now;
      this.setTimer('heartbeat', this.options.pongTimeoutMs, () => this.checkHeartbeat());
    } else {
      this.setTimer('heartbeat', this.heartbeatMs - silent, () => this.checkHeartbeat());
    }
  }

  // ---- Tokens -------------------------------------------------------------------

  setToken(token) {
    this.token = typeof token === 'string' && token ? token : null;
    this.tokenExpiresAt = this.token ? jwtExpiryMs(this.token) : null;
  }

  // A fresh token refreshBeforeMs before the current one expires, when the
  // token comes from a function (a fixed string cannot be refreshed).
  scheduleRefresh() {
    this.clearTimer('refresh');
    if (typeof this.tokenSource !== 'function' || this.tokenExpiresAt === null) return;
    const wait = Math.max(0, this.tokenExpiresAt - this.options.refreshBeforeMs - this.clock.now());
    this.setTimer('refresh', wait, () => this.refreshToken());
  }

  refreshToken() {
    const socket = this.socket;
    const send = (token) => {
      if (this.socket !== socket || this.state !== 'open' || typeof token !== 'string' || !token) return;
      this.setToken(token);
      this.send({ op: 'auth', id: this.nextId++, token });
      this.scheduleRefresh();
    };
    let token;
    try {
      token = this.tokenSource();
    } catch (error) {
      this.emitError({ code: 'TOKEN_SOURCE', message: String(error && error.message || error) });
      return;
    }
    if (isThenable(token)) {
      token.then(send, (error) => this.emitError({ code: 'TOKEN_SOURCE', message: String(error && error.message || error) }));
    } else {
      send(token);
    }
  }

  // ---- Plumbing --------------------------------------------------------------------

  send(message) {
    if (!this.socket) return;
    try {
      this.socket.send(JSON.stringify(message));
    } catch (error) {
      this.emitError({ code: 'SEND', message: String(error && error.message || error) });
    }
  }

  setState(state, detail) {
    if (state === this.state && state !== 'reconnecting') return;
    this.state = state;
    for (const listener of this.stateListeners) {
      try { listener(state, detail); } catch { /* the application's own problem */ }
    }
  }

  emitGap(gap) {
    this.stats.gaps += 1;
    for (const listener of this.gapListeners) {
      try { listener(gap); } catch { /* the application's own problem */ }
    }
  }

  emitError(error) {
    for (const listener of this.errorListeners) {
      try { listener(error); } catch { /* the application's own problem */ }
    }
  }

  setTimer(name, ms, fn) {
    this.clearTimer(name);
    this.timers[name] = this.clock.setTimeout(() => {
      delete this.timers[name];
      fn();
    }, Math.max(0, ms));
  }

  clearTimer(name) {
    if (this.timers[name] !== undefined) {
      this.clock.clearTimeout(this.timers[name]);
      delete this.timers[name];
    }
  }
}

export default WsRouterClient;
