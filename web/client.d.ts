// Types of the wsrouter browser client (client.js). Wire contract: PROTOCOL.md.

export declare const SUBPROTOCOL: 'wsrouter.v1';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A data message as the router sends it. */
export interface DataMessage<T = unknown> {
  type: string; // the publisher's type: price_update, orderbook_update, alert...
  channel: string;
  seq: number; // per channel, +1 per publication
  ts: number; // ms since the epoch when the router accepted it
  data: T;
}

/**
 * Messages the application will not see. From the router (`reason`
 * slow_consumer, not_in_history...), or found by the client: `missing` (a seq
 * skipped without notice) and `reset` (the channel's seq went back, as when a
 * router without shared history restarted: `to` is null, `seq` the new one).
 */
export interface Gap {
  type: 'gap';
  channel: string;
  from: number;
  to: number | null;
  reason: string;
  seq?: number;
}

/** A refusal from the router (`code` of PROTOCOL.md) or a client-side problem. */
export interface ClientError {
  code: string; // FORBIDDEN, INVALID_CHANNEL, INVALID_TOKEN, ... or CALLBACK, TOKEN_SOURCE, SEND
  message?: string;
  id?: number;
  channel?: string; // the channel a subscribe refusal was for: it is dropped
}

export interface StateDetail {
  code?: number; // the close code that ended the last connection
  reason?: string;
  attempt?: number; // reconnect attempts since the last stable connection
  delayMs?: number; // the wait before the next attempt
  session?: string; // when open
}

/** The parts of a WebSocket the client uses: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ClientOptions {
  /** ws:// or wss:// URL of /ws; default: /ws of the page's own host. */
  url?: string;
  /** A token (sent as the subprotocol `bearer.<token>`), or a function giving
   * one, called for every connection and before a JWT's exp (then sent with
   * the `auth` op). None with `auth.mode: none`. */
  token?: string | (() => string | Promise<string>);
  /** Required in Node: a WebSocket class, e.g. the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Connect at once (default true); otherwise call connect(). */
  autoConnect?: boolean;
  onState?: (state: ConnectionState, detail: StateDetail) => void;
  onGap?: (gap: Gap) => void;
  onError?: (error: ClientError) => void;
  backoffInitialMs?: number; // 500
  backoffMaxMs?: number; // 30000
  backoffResetAfterMs?: number; // 5000
  goingAwayDelayMs?: number; // 5000
  connectTimeoutMs?: number; // 10000
  heartbeatMs?: number; // 30000, until the welcome's heartbeat_ms
  pongTimeoutMs?: number; // 10000
  resumeTimeoutMs?: number; // 5000
  refreshBeforeMs?: number; // 30000
  maxChannelsPerRequest?: number; // 50
  /** For tests: time and randomness. */
  clock?: Clock;
  random?: () => number;
}

export interface ClientStats {
  received: number; // every message from the router
  delivered: number; // data messages given to callbacks
  duplicates: number; // data messages dropped by seq
  gaps: number;
  reconnects: number;
}

export declare class WsRouterClient {
  constructor(options?: ClientOptions);
  readonly state: ConnectionState;
  readonly stats: ClientStats;
  /** One callback per channel (subscribing again replaces it); returns an unsubscribe function. */
  subscribe<T = unknown>(
    channel: string,
    callback: (message: DataMessage<T>) => void,
    options?: { since?: number },
  ): () => void;
  unsubscribe(channel: string): void;
  lastSeq(channel: string): number | null;
  onState(listener: (state: ConnectionState, detail: StateDetail) => void): this;
  onGap(listener: (gap: Gap) => void): this;
  onError(listener: (error: ClientError) => void): this;
  connect(): void;
  close(): void;
}

export default WsRouterClient;
