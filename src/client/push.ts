import { endpoint } from './options.js';

/**
 * Web Push for a device (PROTOCOL.md "Web Push"): the page subscribes its service worker and
 * tells Herald; the service worker shows what arrives while the page is frozen or closed, and
 * acknowledges it so the device's stream does not deliver it again when the page comes back.
 *
 * The browser types are structural (the few members used), so this module needs neither the
 * WebWorker lib nor a browser to be type-checked or tested.
 */
export interface PushTarget {
  /** Herald's base URL. */
  url: string;
  device: string;
  /** The device token, or how to get one. */
  token: string | (() => string | Promise<string>);
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface PushSubscriptionLike {
  toJSON(): { endpoint?: string; expirationTime?: number | null; keys?: Record<string, string> };
  unsubscribe?(): Promise<boolean>;
}

export interface ServiceWorkerRegistrationLike {
  pushManager: {
    getSubscription(): Promise<PushSubscriptionLike | null>;
    subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }): Promise<PushSubscriptionLike>;
  };
}

/** What a push carries (the encrypted payload, decrypted by the browser). */
export interface PushedNotification {
  id: string;
  cursor: string;
  title: string;
  message: string;
  service: string;
  data: unknown;
  ts: number;
  /** The payload was cut to fit a push message: fetch the rest over the stream. */
  truncated?: boolean;
}

async function tokenOf(t: PushTarget): Promise<string> {
  return typeof t.token === 'string' ? t.token : await t.token();
}

function fetchOf(t: PushTarget): typeof fetch {
  const f = t.fetch ?? globalThis.fetch;
  return (input, init) => f(input, init);
}

export function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Subscribes the page's service worker to push with Herald's VAPID key (reusing an existing
 * subscription) and registers it for this device (`POST /me/devices/<device>/push`).
 * @example
 * const reg = await navigator.serviceWorker.register('/sw.js');
 * await registerPush(reg, { url: 'https://herald.example.com', device: 'laptop', token });
 */
export async function registerPush(registration: ServiceWorkerRegistrationLike, target: PushTarget): Promise<PushSubscriptionLike> {
  const f = fetchOf(target);
  const keyRes = await f(endpoint(target.url, '/push/vapid-public-key', {}));
  if (!keyRes.ok) throw new Error(`GET /push/vapid-public-key answered ${keyRes.status}`);
  const { publicKey } = (await keyRes.json()) as { publicKey: string };
  const sub =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(publicKey) }));
  const res = await f(endpoint(target.url, `/me/devices/${encodeURIComponent(target.device)}/push`, {}), {
    method: 'POST',
    headers: { authorization: `Bearer ${await tokenOf(target)}`, 'content-type': 'application/json' },
    body: JSON.stringify(sub.toJSON()),
  });
  if (res.status !== 204) throw new Error(`POST /me/devices/…/push answered ${res.status}: ${await res.text()}`);
  return sub;
}

/** Stops push for this device (`DELETE /me/devices/<device>/push`) and unsubscribes the browser. */
export async function unregisterPush(registration: ServiceWorkerRegistrationLike, target: PushTarget): Promise<void> {
  const f = fetchOf(target);
  const res = await f(endpoint(target.url, `/me/devices/${encodeURIComponent(target.device)}/push`, {}), {
    method: 'DELETE',
    headers: { authorization: `Bearer ${await tokenOf(target)}` },
  });
  if (res.status !== 204) throw new Error(`DELETE /me/devices/…/push answered ${res.status}`);
  await (await registration.pushManager.getSubscription())?.unsubscribe?.();
}

/** Acknowledges a pushed notification, so the device's next stream does not replay it. */
export async function ackPushed(target: PushTarget, n: Pick<PushedNotification, 'cursor'>): Promise<void> {
  const res = await fetchOf(target)(endpoint(target.url, `/me/devices/${encodeURIComponent(target.device)}/ack`, {}), {
    method: 'POST',
    headers: { authorization: `Bearer ${await tokenOf(target)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cursor: n.cursor }),
  });
  if (res.status !== 204) throw new Error(`POST /me/devices/…/ack answered ${res.status}`);
}

export interface PushEventLike {
  data: { json(): unknown } | null;
  waitUntil(p: Promise<unknown>): void;
}

export interface ShowNotification {
  showNotification(title: string, options?: { body?: string; tag?: string; data?: unknown }): Promise<void>;
}

/**
 * The service worker's `push` listener: shows the notification, then acks it.
 * @example
 * // sw.js
 * import { pushHandler } from '/herald/client/push.js';
 * self.addEventListener('push', pushHandler(self.registration, { url, device, token: () => tokenFromIndexedDb() }));
 */
export function pushHandler(registration: ShowNotification, target: PushTarget, show?: (n: PushedNotification) => { title: string; body?: string }) {
  return (event: PushEventLike): void => {
    const n = event.data?.json() as PushedNotification | undefined;
    if (!n || typeof n.title !== 'string') return;
    const view = show ? show(n) : { title: n.title, body: n.message };
    event.waitUntil(
      Promise.all([
        registration.showNotification(view.title, { body: view.body, tag: n.id, data: n }),
        // An ack that fails (offline) only means the stream delivers it again later, deduped by id.
        ackPushed(target, n).catch(() => undefined),
      ]),
    );
  };
}
