import { once } from 'node:events';
import WebSocket from 'ws';
import { signDeviceToken } from '../../src/auth/auth.js';
import type { ConfigInput } from '../../src/core/config.js';
import { type Herald, type StartOptions, startHerald } from '../../src/server.js';

export const API_KEY = 'test-api-key';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef';

/** A node on 127.0.0.1:0 with known secrets, quiet logs and short drain windows. */
export function startTestHerald(cfg: ConfigInput = {}, opts: StartOptions = {}): Promise<Herald> {
  return startHerald(
    {
      PORT: 0,
      GRPC_PORT: 'off',
      API_KEY,
      JWT_SECRET,
      LOG_LEVEL: 'silent',
      DRAIN_TIMEOUT_MS: 200,
      FLUSH_TIMEOUT_MS: 50,
      FORCE_CLOSE_TIMEOUT_MS: 2000,
      PRESENCE_GRACE_MS: 0,
      ...cfg,
    },
    { logger: false, ...opts },
  );
}

export function token(clientId: string, ttlSeconds = 3600, secret = JWT_SECRET): Promise<string> {
  return signDeviceToken(secret, clientId, ttlSeconds);
}

export interface Frame {
  type: string;
  [k: string]: unknown;
}

/** A real `ws` device that records every frame and can wait for what it expects. */
export class TestDevice {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Answer pings automatically (a well-behaved device). */
  autoPong = true;
  #waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame;
      this.frames.push(f);
      if (f.type === 'ping' && this.autoPong) this.send({ type: 'pong' });
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve(f);
        return false;
      });
    });
  }

  get notifications(): Frame[] {
    return this.frames.filter((f) => f.type === 'notification');
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Resolves with the first frame (already received or future) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Waits until `n` notifications have arrived. */
  async waitForNotifications(n: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.notifications.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} notifications, got ${this.notifications.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.notifications;
  }

  close(): void {
    this.ws.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed;
  }
}

export function wsUrl(h: Pick<Herald, 'url'>, params: Record<string, string>): string {
  return `${h.url.replace(/^http/, 'ws')}/ws?${new URLSearchParams(params)}`;
}

/** Connects a device and waits for its `welcome`. */
export async function connectDevice(
  h: Pick<Herald, 'url'>,
  clientId: string,
  deviceId: string,
  extra: { cursor?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<TestDevice> {
  const params: Record<string, string> = { device: deviceId, token: extra.token ?? (await token(clientId)) };
  if (extra.cursor) params.cursor = extra.cursor;
  const d = new TestDevice(new WebSocket(wsUrl(h, params), { headers: extra.headers }));
  await d.waitFor((f) => f.type === 'welcome');
  return d;
}

/** Opens a WebSocket expecting a refusal; resolves with the HTTP status and body. */
export async function refusedHandshake(url: string, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  const opened = once(ws, 'open').then(() => {
    throw new Error('handshake was accepted');
  });
  const [, res] = (await Promise.race([once(ws, 'unexpected-response'), opened])) as [unknown, import('node:http').IncomingMessage];
  let text = '';
  for await (const chunk of res) text += chunk;
  ws.terminate();
  return { status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} };
}

export interface ApiResponse {
  status: number;
  body: any;
}

export async function api(h: Pick<Herald, 'url'>, method: string, path: string, body?: unknown, key: string | null = API_KEY): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(h.url + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed };
}

export function publishTo(h: Pick<Herald, 'url'>, clientId: string, body: object, deviceId?: string): Promise<ApiResponse> {
  const path = deviceId ? `/api/v1/clients/${clientId}/devices/${deviceId}/notifications` : `/api/v1/clients/${clientId}/notifications`;
  return api(h, 'POST', path, body);
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
