// Herald operator dashboard: sign-in, the live feed, totals and charts, the device tree, the
// client panel (cluster-wide) with its actions, and the nodes list. No framework, no build step.

import { apiKey, openStream, request, seg, Unauthorized } from './api.js';
import { LineChart } from './charts.js';
import { ClientInbox } from './client-inbox.js';
import { DeviceList } from './device-list.js';
import { age, bytes, dec, int, ms, when } from './format.js';

const $ = (id) => document.getElementById(id);
const HISTORY = 150;

/** Counters for tests and curious operators (window.heraldDashboard in the console). */
const stats = { updates: 0, deviceEvents: 0, pageFetches: 0, lastUpdate: null };
window.heraldDashboard = stats;

let stopStream = null;
let samples = [];
let openClient = null;
let clientTimer = 0;
const inbox = new ClientInbox({ list: $('cv-items'), counts: $('cv-counts'), note: $('cv-inbox-note') }, (err) => {
  if (err instanceof Unauthorized) unauthorized();
});

// ---- sign-in ----

function showLogin(message = '') {
  stopStream?.();
  stopStream = null;
  list.stop();
  openClient = null;
  inbox.show(null);
  $('client-view').hidden = true;
  $('app').hidden = true;
  $('forget').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('api-key').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  try {
    await request('GET', '/api/v1/nodes', undefined, { key });
  } catch (err) {
    $('login-error').textContent = err instanceof Unauthorized ? 'That key was refused.' : `Could not reach Herald: ${err.message}`;
    return;
  }
  apiKey.set(key);
  $('api-key').value = '';
  start();
});

$('forget').addEventListener('click', () => {
  apiKey.clear();
  showLogin('Key forgotten.');
});

function unauthorized() {
  apiKey.clear();
  showLogin('The API key was refused (changed or revoked). Enter it again.');
}

/** Runs an API call; a 401 sends the operator back to sign-in, other errors become a toast. */
async function call(fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Unauthorized) unauthorized();
    else if (err.name !== 'AbortError') toast(err.message, true);
    throw err;
  }
}

// ---- charts, cards ----

const css = getComputedStyle(document.documentElement);
const c1 = css.getPropertyValue('--accent').trim() || '#2458d3';
const c2 = css.getPropertyValue('--accent2').trim() || '#d2691e';
const charts = [
  new LineChart($('ch-connections'), { series: [{ key: 'connections', color: c1 }], format: int }),
  new LineChart($('ch-rates'), { series: [{ key: 'publishes', color: c1 }, { key: 'deliveries', color: c2 }], format: dec }),
  new LineChart($('ch-queue'), { series: [{ key: 'queueBytes', color: c1 }], format: bytes }),
  new LineChart($('ch-rtt'), { series: [{ key: 'rttP50', color: c1 }, { key: 'rttP99', color: c2 }], format: dec }),
];

function text(id, value) {
  const el = $(id);
  if (el.textContent !== value) el.textContent = value;
}

function renderUpdate(u) {
  text('node-id', u.node);
  text('broker', u.broker === 'redis' ? 'redis (cluster)' : 'local (single node)');
  text('node-state', u.state);
  const c = u.connections;
  text('c-connections', int(c.total));
  // One count per transport kind the server has, in its order: `ws 3 · sse 1 · grpc 0`.
  const transports = Object.keys(c).filter((k) => k !== 'total');
  text('c-transports', transports.map((t) => `${t} ${int(c[t])}`).join(' · '));
  text('c-clients', int(u.clientsOnline));
  text('c-devices', `${int(u.devices)} registered · ${int(u.detached)} detached`);
  text('c-publishes', dec(u.rates.publishes));
  text('c-published', `${int(u.totals.published)} total`);
  text('c-deliveries', dec(u.rates.deliveries));
  text('c-delivered', `${int(u.totals.delivered)} total · ${int(u.totals.dropped)} dropped`);
  text('c-zombies', int(u.totals.zombies));
  text('c-stale', `${int(u.totals.staleCleaned)} stale registrations swept`);
  text('c-queue', bytes(u.sendQueue.bytes));
  text('c-queue-max', `largest ${bytes(u.sendQueue.maxBytes)}`);
  text('c-rtt', u.rtt.p50 === null ? '—' : `${ms(u.rtt.p50)}`);
  text('c-rtt-more', u.rtt.samples ? `p99 ${ms(u.rtt.p99)} · ${int(u.rtt.samples)} devices` : 'no pong yet');
  $('c-rtt-more').title = `max ${ms(u.rtt.max)}`;
  text('c-churn', `+${dec(u.rates.connects)} / −${dec(u.rates.disconnects)}`);
  text('c-heartbeats', `heartbeats ${int(u.totals.heartbeatsAnswered)}/${int(u.totals.heartbeatsSent)} · ${int(u.totals.heartbeatsMissed)} missed`);
  renderNodes(u);
}

function drawCharts() {
  const now = Date.now();
  for (const ch of charts) ch.draw(samples, now);
}

function renderNodes(u) {
  const body = $('nodes');
  const rows = u.nodes.map((n) => {
    const tr = document.createElement('tr');
    if (n.self) tr.className = 'self';
    tr.dataset.node = n.id;
    for (const [v, cls] of [
      [n.id, ''],
      [int(n.connections), 'num'],
      [n.self ? 'now' : `${age(n.lastSeenAt)} ago`, ''],
    ]) {
      const td = document.createElement('td');
      td.textContent = v;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  });
  body.replaceChildren(...rows);
  text(
    'nodes-note',
    u.broker === 'redis'
      ? `${u.nodes.length} live node${u.nodes.length === 1 ? '' : 's'} sharing one Redis. The device list shows this node; "Find a client" searches all.`
      : 'Single node (local broker). With REDIS_URL set, every node of the cluster is listed here.',
  );
}

// ---- device list ----

const list = new DeviceList($('vlist'), {
  fetchPage: (q, signal) => {
    stats.pageFetches++;
    const params = new URLSearchParams({ offset: String(q.offset), limit: String(q.limit) });
    if (q.q) params.set('q', q.q);
    if (q.state) params.set('state', q.state);
    return call(() => request('GET', `/api/v1/devices?${params}`, undefined, { signal }));
  },
  onSummary: (page) => {
    const filtered = list.filter.q || list.filter.state;
    text('list-summary', `${int(page.total)} device${page.total === 1 ? '' : 's'} · ${int(page.clients)} client${page.clients === 1 ? '' : 's'}${filtered ? ' (filtered)' : ''}`);
  },
  onError: () => {},
});

let filterTimer = 0;
const applyFilter = () => list.setFilter($('filter').value.trim(), $('state-filter').value);
$('filter').addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(applyFilter, 200);
});
$('state-filter').addEventListener('change', applyFilter);
$('filter-form').addEventListener('submit', (e) => {
  e.preventDefault();
  applyFilter();
});

$('vlist').addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-action]');
  const row = btn?.closest('.vrow');
  if (!btn || !row?.dataset.client) return;
  const { client, device } = row.dataset;
  if (btn.dataset.action === 'open-client') showClient(client);
  else if (btn.dataset.action === 'test') sendTest(client);
  else if (btn.dataset.action === 'remove') confirmThen(btn, () => removeDevice(client, device));
});

/** Destructive buttons take two clicks: the first arms the button for three seconds. */
function confirmThen(btn, action) {
  if (btn.dataset.armed) {
    delete btn.dataset.armed;
    btn.textContent = 'Remove';
    action();
    return;
  }
  btn.dataset.armed = '1';
  btn.textContent = 'Confirm';
  setTimeout(() => {
    if (btn.dataset.armed) {
      delete btn.dataset.armed;
      btn.textContent = 'Remove';
    }
  }, 3000);
}

async function removeDevice(client, device) {
  try {
    await call(() => request('DELETE', `/api/v1/clients/${seg(client)}/devices/${seg(device)}`));
    toast(`Removed ${client} / ${device}: its stream was closed (4003).`);
  } catch {
    return;
  }
  list.refresh();
  if (openClient === client) refreshClient();
}

async function sendTest(client, title = 'Test from the Herald dashboard', message = `Sent at ${new Date().toLocaleTimeString()}`) {
  try {
    const r = await call(() => request('POST', `/api/v1/clients/${seg(client)}/notifications`, { title, message, service: 'herald-dashboard' }));
    toast(`Sent to ${client}: delivered to ${r.delivered} device${r.delivered === 1 ? '' : 's'} now${r.stored ? ', stored for the others' : ''}.`);
    if (client === openClient) inbox.refresh(true);
  } catch {}
}

// ---- client panel (cluster-wide) ----

$('client-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('client-id').value.trim();
  if (id) showClient(id);
});

$('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (openClient) sendTest(openClient, $('send-title').value, $('send-message').value);
});

$('cv-devices').addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-action="remove"]');
  if (btn && openClient) confirmThen(btn, () => removeDevice(openClient, btn.dataset.device));
});

$('cv-inbox-refresh').addEventListener('click', () => inbox.refresh(true));

function showClient(id) {
  const other = openClient !== id;
  openClient = id;
  $('client-id').value = id;
  refreshClient();
  if (other) inbox.show(id);
  else inbox.refresh(true);
}

async function refreshClient() {
  const id = openClient;
  if (!id) return;
  clearTimeout(clientTimer);
  let view;
  try {
    view = await request('GET', `/api/v1/clients/${seg(id)}`);
  } catch (err) {
    if (err instanceof Unauthorized) return unauthorized();
    $('client-view').hidden = true;
    $('client-error').textContent = err.message;
    return;
  }
  if (openClient !== id) return;
  $('client-error').textContent = '';
  $('client-view').hidden = false;
  inbox.refresh();
  text('cv-id', view.clientId);
  const online = $('cv-online');
  online.textContent = view.online ? 'online' : 'offline';
  online.className = view.online ? 'pill on' : 'pill';
  const epoch = $('cv-epoch');
  epoch.textContent = `${view.devices.length} device${view.devices.length === 1 ? '' : 's'}`;
  epoch.title = `presence epoch ${view.epoch}`;
  const armed = new Set([...$('cv-devices').querySelectorAll('button[data-armed]')].map((b) => b.dataset.device));
  const now = Date.now();
  const rows = view.devices.map((d) => {
    const li = document.createElement('li');
    li.dataset.device = d.deviceId;
    const head = document.createElement('div');
    const name = document.createElement('b');
    name.textContent = d.deviceId;
    const state = document.createElement('span');
    state.className = `state state-${d.state}`;
    state.textContent = d.state;
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = `${d.transport} · ${d.node}`;
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.dataset.action = 'remove';
    btn.dataset.device = d.deviceId;
    btn.textContent = armed.has(d.deviceId) ? 'Confirm' : 'Remove';
    if (armed.has(d.deviceId)) btn.dataset.armed = '1';
    head.append(name, state, where, btn);
    const figures = document.createElement('small');
    const rtt = d.rttMs === null || d.rttMs === undefined ? '' : ` (RTT ${d.rttMs} ms)`;
    figures.textContent =
      `connected ${age(d.connectedAt, now)} ago · heartbeat ${d.lastHeartbeatAt === null ? 'never' : `${age(d.lastHeartbeatAt, now)} ago${rtt}`} · ` +
      `${int(d.notificationCount)} notification${d.notificationCount === 1 ? '' : 's'}, last ${d.lastNotificationAt === null ? 'never' : `${age(d.lastNotificationAt, now)} ago`}`;
    figures.title = `connected ${when(d.connectedAt)}`;
    li.append(head, figures);
    return li;
  });
  $('cv-devices').replaceChildren(...rows);
}

// ---- toasts ----

function toast(message, bad = false) {
  const el = document.createElement('div');
  el.className = bad ? 'toast bad' : 'toast';
  el.textContent = message;
  $('toasts').appendChild(el);
  setTimeout(() => el.remove(), 5000);
}

// ---- live feed ----

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('forget').hidden = false;
  samples = [];
  list.start();
  stopStream = openStream({
    onStatus: (s) => {
      const el = $('stream');
      el.dataset.state = s;
      el.textContent = s === 'live' ? 'live' : s === 'reconnecting' ? 'reconnecting…' : 'offline';
    },
    onUnauthorized: unauthorized,
    onEvent: (name, data) => {
      if (name === 'history') {
        samples = data.slice(-HISTORY);
        drawCharts();
      } else if (name === 'update') {
        stats.updates++;
        stats.lastUpdate = data;
        samples.push({
          ts: data.ts,
          connections: data.connections.total,
          publishes: data.rates.publishes,
          deliveries: data.rates.deliveries,
          queueBytes: data.sendQueue.bytes,
          rttP50: data.rtt.p50,
          rttP99: data.rtt.p99,
        });
        if (samples.length > HISTORY) samples.splice(0, samples.length - HISTORY);
        renderUpdate(data);
        drawCharts();
        // Visible rows carry live figures (heartbeats, counts): refetch the window once a second.
        list.refresh(data.version);
        if (openClient) refreshClient();
      } else if (name === 'devices') {
        stats.deviceEvents++;
        list.refresh(data.version);
        if (openClient) {
          clearTimeout(clientTimer);
          clientTimer = setTimeout(refreshClient, 100);
        }
      }
    },
  });
}

if (apiKey.get()) start();
else showLogin();
