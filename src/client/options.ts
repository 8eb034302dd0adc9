import { BACKOFF_DEFAULTS, type BackoffOptions } from './backoff.js';
import type { EventSourceConstructor, WebSocketConstructor } from './streams.js';

/** Where the last cursor is kept across page loads: `localStorage`, `sessionStorage`, or anything with that shape. */
export interface CursorStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Herald's base URL, e.g. `https://herald.example.com` (`ws(s)://` works too); the SDK adds `/ws` or `/sse`. */
  url: string;
  /** This device's id (1–128 of `A-Z a-z 0-9 . _ - @`). */
  device: string;
  /** A device JWT whose `sub` is the client id. Give this or {@link getToken}. */
  token?: string;
  /**
   * Returns a fresh device JWT. Called before the first connect, on `token-expired`, on close
   * 1008 (or a 401 the runtime lets us see), and when the current token's `exp` has passed.
   */
  getToken?: () => string | Promise<string>;
  /** @default 'ws' */
  transport?: 'ws' | 'sse';
  /** Resume from here on the first connect (else from {@link storage}, else the server's stored cursor). */
  cursor?: string;
  /** Keeps the last cursor across page loads (e.g. `localStorage`). @default null (memory only) */
  storage?: CursorStorage | null;
  /** @default `herald:cursor:<token sub>:<device>` */
  storageKey?: string;
  /** Acknowledge delivered notifications automatically (batched). @default true */
  autoAck?: boolean;
  /** How long acks are batched before one is sent. @default 200 */
  ackDelayMs?: number;
  /** How many recent notification ids are remembered to drop duplicates. @default 2048 */
  dedupeSize?: number;
  /** How many items `conn.inbox` holds at most (the newest are kept). @default 500 */
  inboxSize?: number;
  /**
   * The server is declared gone after `heartbeat.intervalMs × heartbeatMisses + heartbeat.timeoutMs`
   * (from the welcome) without any data. @default 3
   */
  heartbeatMisses?: number;
  /** How long a connect attempt may take to produce data before it is abandoned. @default 10000 */
  connectTimeoutMs?: number;
  /** Reconnect backoff (full jitter). @default { baseMs: 500, maxMs: 30000 } */
  backoff?: Partial<BackoffOptions>;
  /** Browsers: reconnect or probe at once on `online`, `visibilitychange` to visible, `pageshow` and `resume`. @default true */
  lifecycle?: boolean;
  /** A WebSocket constructor where there is no global one (Node 20: `import WebSocket from 'ws'`). @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** An EventSource constructor where there is no global one (Node: `import { EventSource } from 'eventsource'`). @default globalThis.EventSource */
  EventSource?: EventSourceConstructor;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** A source of uniform numbers in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number;
}

/** Options after defaults and checks. */
export interface Resolved {
  url: string;
  device: string;
  transport: 'ws' | 'sse';
  token: string | null;
  getToken: (() => string | Promise<string>) | null;
  storage: CursorStorage | null;
  storageKey: string | null;
  autoAck: boolean;
  ackDelayMs: number;
  inboxSize: number;
  heartbeatMisses: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  WebSocket: WebSocketConstructor | null;
  EventSource: EventSourceConstructor | null;
  fetch: typeof fetch;
  random: () => number;
}

export function resolveOptions(o: ConnectOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw new TypeError('connect(options): options are required');
  const base = new URL(o.url);
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(base.protocol)) throw new TypeError(`url: expected http(s) or ws(s), got ${base.protocol}`);
  if (typeof o.device !== 'string' || o.device === '') throw new TypeError('device: required');
  if (!o.token && !o.getToken) throw new TypeError('token or getToken: one is required');
  const transport = o.transport ?? 'ws';
  if (transport !== 'ws' && transport !== 'sse') throw new TypeError(`transport: 'ws' or 'sse', got ${String(transport)}`);
  const g = globalThis as { WebSocket?: WebSocketConstructor; EventSource?: EventSourceConstructor };
  const WS = o.WebSocket ?? g.WebSocket ?? null;
  const ES = o.EventSource ?? g.EventSource ?? null;
  if (transport === 'ws' && !WS) throw new TypeError("no WebSocket in this runtime: pass { WebSocket } (in Node 20: import WebSocket from 'ws')");
  if (transport === 'sse' && !ES)
    throw new TypeError("no EventSource in this runtime: pass { EventSource } (in Node: import { EventSource } from 'eventsource')");
  const f = o.fetch ?? globalThis.fetch;
  if (transport === 'sse' && typeof f !== 'function') throw new TypeError('no fetch in this runtime: pass { fetch }');
  return {
    url: base.toString(),
    device: o.device,
    transport,
    token: o.token ?? null,
    getToken: o.getToken ?? null,
    storage: o.storage ?? null,
    storageKey: o.storageKey ?? null,
    autoAck: o.autoAck ?? true,
    ackDelayMs: Math.max(0, o.ackDelayMs ?? 200),
    inboxSize: Math.max(1, o.inboxSize ?? 500),
    heartbeatMisses: Math.max(1, o.heartbeatMisses ?? 3),
    connectTimeoutMs: Math.max(1, o.connectTimeoutMs ?? 10_000),
    backoff: { ...BACKOFF_DEFAULTS, ...o.backoff },
    WebSocket: WS,
    EventSource: ES,
    // Called unbound: a browser's fetch must not be called as a method of another object.
    fetch: (input, init) => f(input, init),
    random: o.random ?? Math.random,
  };
}

/** `base` + `path` with `params`, in the scheme the path needs (ws(s) for `/ws`, http(s) otherwise). */
export function endpoint(base: string, path: string, params: Record<string, string>): string {
  const u = new URL(base);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  u.protocol = path === '/ws' ? (secure ? 'wss:' : 'ws:') : secure ? 'https:' : 'http:';
  u.pathname = u.pathname.replace(/\/+$/, '') + path;
  u.search = new URLSearchParams(params).toString();
  u.hash = '';
  return u.toString();
}
