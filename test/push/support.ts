import type { ConfigInput } from '../../src/core/config.js';
import type { PushOptions, WebPush } from '../../src/push/web-push.js';
import type { Herald } from '../../src/server.js';
import { startTestHerald, token } from '../support/herald.js';
import type { BrowserSubscription } from './push-service.js';

export type PushHerald = Herald & { readonly push: WebPush };

/** A test node whose push endpoints may be the loopback stand-in push service. */
export function startPushHerald(cfg: ConfigInput = {}, pushOpts: PushOptions = {}): Promise<PushHerald> {
  return startTestHerald({ PUSH_ALLOWED_ENDPOINTS: 'http://127.0.0.1', ...cfg }, { push: pushOpts });
}

/** A device call with its own token (Bearer), as the SDK or a service worker makes it. */
export async function deviceCall(h: Herald, method: string, path: string, clientId: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (clientId !== null) headers.authorization = `Bearer ${await token(clientId)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(h.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Registers a browser subscription for a device; expects 204. */
export async function subscribe(h: Herald, clientId: string, deviceId: string, sub: BrowserSubscription): Promise<void> {
  const r = await deviceCall(h, 'POST', `/me/devices/${deviceId}/push`, clientId, sub.json);
  if (r.status !== 204) throw new Error(`subscribe answered ${r.status}: ${JSON.stringify(r.body)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
