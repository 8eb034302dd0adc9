import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import {
  type ConnectOptions,
  connect,
  type DisconnectInfo,
  type HeraldConnection,
  type HeraldNotification,
  type WelcomeFrame,
} from '../../src/client/index.js';
import type { Herald } from '../../src/server.js';
import { publishTo, token, until } from '../support/herald.js';

export type Transport = 'ws' | 'sse';
export const TRANSPORTS: Transport[] = ['ws', 'sse'];

/** An SDK connection in Node and everything it reported. */
export interface Recorded {
  conn: HeraldConnection;
  notifications: HeraldNotification[];
  states: string[];
  welcomes: WelcomeFrame[];
  disconnects: (DisconnectInfo & { at: number })[];
  errors: Error[];
  [Symbol.dispose](): void;
}

export function record(conn: HeraldConnection): Recorded {
  const r: Recorded = {
    conn,
    notifications: [],
    states: [],
    welcomes: [],
    disconnects: [],
    errors: [],
    [Symbol.dispose]: () => conn.close(),
  };
  conn.on('notification', (n) => r.notifications.push(n));
  conn.on('state', (s) => r.states.push(s.state));
  conn.on('welcome', (w) => r.welcomes.push(w));
  conn.on('disconnected', (d) => r.disconnects.push({ ...d, at: Date.now() }));
  conn.on('error', (e) => r.errors.push(e));
  return r;
}

/** The SDK in Node 20: `ws` and `eventsource` stand in for the browser's constructors. */
export async function sdk(h: Herald | string, clientId: string, device: string, transport: Transport, extra: Partial<ConnectOptions> = {}): Promise<Recorded> {
  const url = typeof h === 'string' ? h : h.url;
  const opts: ConnectOptions = { url, device, transport, WebSocket, EventSource, ...extra };
  if (!opts.token && !opts.getToken) opts.token = await token(clientId);
  return record(connect(opts));
}

export async function untilCount(r: Recorded, n: number, timeoutMs = 5000): Promise<void> {
  await until(() => r.notifications.length >= n, timeoutMs, `${n} notifications (got ${r.notifications.length})`);
}

export function titles(r: Recorded): string[] {
  return r.notifications.map((n) => n.title);
}

export const range = (from: number, to: number, prefix = 'n') => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

/**
 * A publish to a node that just restarted on the same port: fetch's keep-alive pool may still
 * hold a socket the old node closed, so a first failure on a stale socket is retried.
 */
export async function publishAfterRestart(h: Herald, clientId: string, body: object): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const r = await publishTo(h, clientId, body);
      if (r.status !== 202) throw new Error(`publish answered ${r.status}`);
      return;
    } catch (err) {
      if (i >= 2 || !(err instanceof TypeError)) throw err;
    }
  }
}
