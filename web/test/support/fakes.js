// Test doubles for the client's unit tests: a clock that moves only when told
// (every timer fires at its exact moment, in order), a scripted random source,
// and a scripted server behind a fake WebSocket class.

export class FakeClock {
  constructor(start = 1_700_000_000_000) {
    this.t = start;
    this.timers = [];
    this.nextId = 1;
  }

  now() { return this.t; }

  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  }

  clearTimeout(id) { this.timers = this.timers.filter((timer) => timer.id !== id); }

  // Moves time forward by `ms`, firing each timer due on the way at its moment.
  advance(ms) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

// Returns the given values in turn, then the last one forever.
export function scriptedRandom(...values) {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)];
}

// Every WebSocket the client opens, each driven by the test.
export class FakeServer {
  constructor() {
    this.sockets = [];
    const server = this;
    this.WebSocket = class FakeWebSocket {
      constructor(url, protocols) {
        this.url = url;
        this.protocols = protocols;
        this.sent = [];
        this.closedWith = null;
        this.onmessage = this.onclose = this.onerror = null;
        server.sockets.push(this);
      }

      send(text) {
        if (this.closedWith) throw new Error('send after close');
        this.sent.push(JSON.parse(text));
      }

      close(code, reason) { this.closedWith = { code, reason }; }

      // The server's side.
      deliver(message) { this.onmessage?.({ data: JSON.stringify(message) }); }
      welcome(fields = {}) {
        this.deliver({ type: 'welcome', session: `s-${server.sockets.indexOf(this)}`,
          resume: `r-${server.sockets.indexOf(this)}`, heartbeat_ms: 30000, ...fields });
      }
      drop(code = 1006, reason = '') { this.onclose?.({ code, reason }); }
      sentOps(op) { return this.sent.filter((m) => m.op === op); }
    };
  }

  get last() { return this.sockets[this.sockets.length - 1]; }
  get count() { return this.sockets.length; }
}

// A JWT the client can read the exp of (the signature is never checked here).
export function fakeJwt(claims) {
  const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2ln`;
}
