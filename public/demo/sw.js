// The demo's service worker: shows what Herald pushes while the page is frozen or closed, and
// acks it so the page's stream does not deliver it again. Registered by demo.js as a module
// worker with its settings in the query string.
import { pushHandler } from './sdk/client/push.js';

const q = new URL(self.location.href).searchParams;
const target = { url: q.get('url') ?? self.location.origin, device: q.get('device') ?? 'browser', token: q.get('token') ?? '' };

self.addEventListener('push', pushHandler(self.registration, target));
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(new URL('./', self.location.href).href));
});
