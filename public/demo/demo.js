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
  showInbox(conn);
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

/**
 * The inbox, rendered from what the SDK holds (conn.inbox.items, conn.inbox.counts): listed once
 * the stream is up, then kept current by the stream — read or archive here, in another tab or on
 * another device, and every page shows it.
 */
function showInbox(conn) {
  const inbox = conn.inbox;
  demo.inbox = { counts: null, listed: false };
  $('inbox-panel').hidden = false;
  const badge = (c) => {
    demo.inbox.counts = c;
    $('unread').textContent = String(c.unread);
    $('unread').dataset.count = String(c.unread);
    $('unseen').textContent = `${c.unseen} unseen`;
    $('unseen').dataset.count = String(c.unseen);
    document.title = c.unread > 0 ? `(${c.unread}) Herald demo device` : 'Herald demo device';
  };
  const render = () => {
    const all = $('show-archived').checked;
    const rows = inbox.items
      .filter((i) => all || i.archivedAt === null)
      .map((i) => {
        const li = document.createElement('li');
        li.dataset.id = i.id;
        li.dataset.title = i.title;
        li.dataset.read = String(i.readAt !== null);
        li.dataset.seen = String(i.seenAt !== null);
        li.dataset.archived = String(i.archivedAt !== null);
        const text = document.createElement('span');
        text.className = 'text';
        const title = document.createElement('span');
        title.className = 'title';
        title.textContent = i.title;
        text.append(title, ` — ${i.message}`);
        const read = document.createElement('button');
        read.type = 'button';
        read.dataset.action = i.readAt === null ? 'read' : 'unread';
        read.textContent = i.readAt === null ? 'Read' : 'Unread';
        const archive = document.createElement('button');
        archive.type = 'button';
        archive.dataset.action = i.archivedAt === null ? 'archive' : 'unarchive';
        archive.textContent = i.archivedAt === null ? 'Archive' : 'Unarchive';
        li.append(text, read, archive);
        return li;
      });
    $('inbox').replaceChildren(...rows);
    $('inbox-empty').hidden = rows.length > 0;
  };
  inbox.on('counts', badge);
  inbox.on('items', render);
  inbox.on('state', (f) => log('inbox-state', { ids: f.ids, all: f.all, by: f.by, unread: f.unread, unseen: f.unseen }));
  inbox.on('update', (f) => log('inbox-update', { id: f.id, version: f.version }));
  inbox.on('delete', (f) => log('inbox-delete', { id: f.id }));
  $('show-archived').addEventListener('change', render);
  const act = (p, what) => p.catch((err) => log('error', { message: `${what}: ${String(err?.message ?? err)}` }));
  $('inbox').addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-action]');
    const id = btn?.closest('li')?.dataset.id;
    if (!btn || !id) return;
    const ops = { read: 'markRead', unread: 'markUnread', archive: 'archive', unarchive: 'unarchive' };
    act(inbox[ops[btn.dataset.action]]([id]), btn.dataset.action);
  });
  $('read-all').addEventListener('click', () => act(inbox.markRead('all'), 'mark all read'));
  $('archive-all').addEventListener('click', () => act(inbox.archive('all'), 'archive all'));
  // Listed at the first welcome; after a resume that lost frames the SDK lists again by itself.
  conn.once('welcome', () =>
    act(
      inbox.list({ limit: 50 }).then(() => {
        demo.inbox.listed = true;
      }),
      'list',
    ),
  );
  render();
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
