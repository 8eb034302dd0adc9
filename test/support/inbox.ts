import { afterAll, beforeAll } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import type { Herald } from '../../src/server.js';
import type { Frame } from './device-client.js';
import { type ApiResponse, startTestHerald, token } from './herald.js';
import { startRedis, type TestRedis } from './redis.js';

/**
 * Helpers of the inbox tests (PROTOCOL.md "Inbox"): a node on each store, device calls under
 * `/me/`, and what the frames say.
 */

let counter = 0;
/** An id no other test uses (client ids are the only key space tests share on one Redis). */
export function uniq(name: string): string {
  return `${name}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export type StoreName = 'memory' | 'redis';

/**
 * Nodes on each store the inbox runs on: memory, and Redis (the Redis store and broker, one node).
 * Call at the top level of a file: it starts the file's own redis-server (so broadcasts of one
 * file never show up in another's inboxes) and stops it after.
 */
export function inboxNodes(): { list: StoreName[]; start(store: StoreName, cfg?: ConfigInput): Promise<Herald>; redis(): TestRedis } {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const server = () => {
    if (!redis) throw new Error('redis starts in beforeAll');
    return redis;
  };
  return {
    list: ['memory', 'redis'],
    start: (store, cfg = {}) => startTestHerald(store === 'redis' ? { REDIS_URL: server().url, NODE_ID: uniq('node'), ...cfg } : cfg),
    redis: server,
  };
}

/** A device's call with its own token (`Authorization: Bearer`, or `?token=` with `asQuery`). */
export async function me(
  h: Pick<Herald, 'url'>,
  clientId: string | null,
  method: string,
  path: string,
  body?: unknown,
  opts: { asQuery?: boolean } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  let url = h.url + path;
  if (clientId !== null) {
    const t = await token(clientId);
    if (opts.asQuery) url += `${path.includes('?') ? '&' : '?'}token=${t}`;
    else headers.authorization = `Bearer ${t}`;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed };
}

/** `GET /me/notifications` for one device; throws unless 200. */
export async function listAs(
  h: Pick<Herald, 'url'>,
  clientId: string,
  deviceId: string,
  query = '',
): Promise<{ items: any[]; unseen: number; unread: number; next: string | null }> {
  const r = await me(h, clientId, 'GET', `/me/notifications?device=${deviceId}${query ? `&${query}` : ''}`);
  if (r.status !== 200) throw new Error(`listing answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The inbox frames a device received, in order (state, update, delete, and notifications with what they replace). */
export function inboxFrames(frames: Frame[]): Frame[] {
  return frames.filter((f) => f.type === 'state' || f.type === 'update' || f.type === 'delete' || f.type === 'notification');
}

/** The counts a frame carries. */
export function countsOf(f: object | undefined): { unseen: unknown; unread: unknown } | undefined {
  const c = f as { unseen?: unknown; unread?: unknown } | undefined;
  return c && { unseen: c.unseen, unread: c.unread };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
