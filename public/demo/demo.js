// The demo device: the page the browser tests drive. Plain ESM, no bundler: the SDK is the
// tsc output of src/client, served by Herald under ./sdk/ (see src/api/demo.ts).
import { connect } from './sdk/client/index.js';

const q = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const device = q.get('device') ?? 'browser';
const transport = q.get('transport') === 'sse' ? 'sse' : 'ws';
const token = q.get('token');
const storageName = q.get('storage');

/** What the tests read: everything the page was told, in order. */
const demo = { conn: null, received: [], events: [] };
window.heraldDemo = demo;

$('device').textContent = device;
$('transport').textContent = transport.toUpperCase();

function log(type, detail) {
  demo.events.push({ type, at: Date.now(), ...detail });
  const li = document.createElement('li');
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${type} ${detail ? JSON.stringify(detail) : ''}`;
  $('log').prepend(li);
}

function showState(state) {
  const out = $('state');
  out.dataset.state = state;
  out.textContent = state;
}

if (!token) {
  $('help').hidden = false;
  showState('closed');
} else {
  const conn = connect({
    url: q.get('url') ?? location.origin,
    token,
    device,
    transport,
    storage: storageName === 'local' ? localStorage : storageName === 'session' ? sessionStorage : null,
  });
  demo.conn = conn;
  conn.on('state', ({ state, previous }) => {
    showState(state);
    log('state', { state, previous });
  });
  conn.on('welcome', (w) => log('welcome', { connectionId: w.connectionId, resumed: w.resumed, pending: w.pending }));
  conn.on('disconnected', (d) => log('disconnected', d));
  conn.on('shutdown', (f) => log('shutdown', { reconnectAfterMs: f.reconnectAfterMs }));
  conn.on('token-expired', () => log('token-expired'));
  conn.on('error', (e) => log('error', { message: String(e?.message ?? e) }));
  conn.on('closed', (c) => {
    log('closed', c);
    const p = $('closed');
    p.hidden = false;
    p.dataset.reason = c.reason;
    p.textContent = c.reason === 'removed' ? 'This device was removed; it will not reconnect.' : `Closed: ${c.reason}`;
  });
  conn.on('notification', (n) => {
    demo.received.push({ id: n.id, title: n.title, message: n.message, cursor: n.cursor, deviceId: n.deviceId ?? null, broadcast: n.broadcast === true });
    const li = document.createElement('li');
    li.dataset.id = n.id;
    li.dataset.title = n.title;
    const strong = document.createElement('strong');
    strong.textContent = n.title;
    li.append(strong, ` — ${n.message}`);
    if (n.broadcast) li.insertAdjacentHTML('beforeend', '<span class="tag">broadcast</span>');
    else if (n.deviceId) li.insertAdjacentHTML('beforeend', '<span class="tag">this device</span>');
    $('notifications').append(li);
    $('count').textContent = String(demo.received.length);
  });
}

// Web Push: a fallback for when this page is frozen or closed (needs a browser with a push service).
const pushButton = $('push');
if (pushButton && token && 'serviceWorker' in navigator) {
  pushButton.hidden = false;
  pushButton.addEventListener('click', async () => {
    try {
      const params = new URLSearchParams({ device, token, url: q.get('url') ?? location.origin });
      const reg = await navigator.serviceWorker.register(`./sw.js?${params}`, { type: 'module', scope: './' });
      await navigator.serviceWorker.ready;
      await demo.conn.registerPush(reg);
      log('push', { registered: true });
      pushButton.textContent = 'Push enabled';
      pushButton.disabled = true;
    } catch (err) {
      log('push', { registered: false, error: String(err?.message ?? err) });
    }
  });
}
