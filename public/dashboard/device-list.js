// The client → device tree as a virtualised list: the DOM holds only the rows on screen (a pool
// of row elements reused while scrolling), and only the rows around the viewport are fetched from
// GET /api/v1/devices. 10 000 devices cost the same DOM as 20.

import { age, bytes, int, when } from './format.js';

const ROW_H = 30;
/** Rows fetched beyond the viewport on each side (scrolling a little needs no request). */
const OVERSCAN = 40;
const MAX_LIMIT = 500;

const CELLS = ['client', 'device', 'transport', 'node', 'state', 'since', 'heartbeat', 'notified', 'count num', 'queue num', 'actions'];

export class DeviceList {
  /**
   * @param {HTMLElement} viewport the scrolling element (holds .vlist-spacer and .vlist-rows)
   * @param {{fetchPage: (q: {offset:number, limit:number, q:string, state:string}, signal: AbortSignal) => Promise<any>,
   *          onSummary: (page: any) => void, onError: (err: Error) => void}} hooks
   */
  constructor(viewport, hooks) {
    this.viewport = viewport;
    this.spacer = viewport.querySelector('.vlist-spacer');
    this.rowsEl = viewport.querySelector('.vlist-rows');
    this.empty = viewport.querySelector('.vlist-empty');
    this.hooks = hooks;
    this.filter = { q: '', state: '' };
    this.total = 0;
    this.version = -1;
    /** The fetched window: rows[i] is row offset + i. */
    this.win = { key: '', offset: 0, rows: [] };
    this.spacerHeight = '';
    this.pool = [];
    this.inflight = null;
    this.again = false;
    this.stale = true;
    this.frame = 0;
    this.loaded = false;
    /** Off until the operator signed in (and again after sign-out): no requests without a key. */
    this.active = false;
    // Geometry is cached from the scroll event and the resize observer: reading scrollTop or
    // clientHeight while rendering would force a synchronous layout of the whole page per frame.
    this.scrollTop = 0;
    this.height = 0;
    viewport.addEventListener(
      'scroll',
      () => {
        this.scrollTop = viewport.scrollTop;
        this.#schedule();
      },
      { passive: true },
    );
    new ResizeObserver((entries) => {
      this.height = entries[entries.length - 1].contentRect.height;
      this.#schedule();
    }).observe(viewport);
  }

  get key() {
    return `${this.filter.q}\u0000${this.filter.state}`;
  }

  start() {
    this.active = true;
    this.refresh();
  }

  stop() {
    this.active = false;
    this.inflight?.abort();
  }

  setFilter(q, state) {
    if (q === this.filter.q && state === this.filter.state) return;
    this.filter = { q, state };
    this.viewport.scrollTop = 0;
    this.scrollTop = 0;
    this.refresh();
  }

  /** The registry (or the figures in it) changed: fetch the visible window again. */
  refresh(version) {
    if (version !== undefined) this.version = version;
    this.stale = true;
    this.#fetch();
  }

  /** Re-render the visible rows (relative times move every second). */
  tick() {
    this.#schedule();
  }

  #visible() {
    const first = Math.max(0, Math.floor(this.scrollTop / ROW_H));
    const count = Math.ceil(this.height / ROW_H) + 1;
    return { first, count };
  }

  #schedule() {
    if (this.frame || !this.active) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.#render();
      const { first, count } = this.#visible();
      const w = this.win;
      const covered = w.key === this.key && first >= w.offset && Math.min(first + count, this.total) <= w.offset + w.rows.length;
      if (!covered) this.#fetch();
    });
  }

  async #fetch() {
    if (!this.active) return;
    if (this.inflight) {
      this.again = true;
      return;
    }
    const { first, count } = this.#visible();
    const offset = Math.max(0, first - OVERSCAN);
    const limit = Math.min(MAX_LIMIT, count + 2 * OVERSCAN);
    const key = this.key;
    const ctl = new AbortController();
    this.inflight = ctl;
    this.stale = false;
    try {
      const page = await this.hooks.fetchPage({ offset, limit, q: this.filter.q, state: this.filter.state }, ctl.signal);
      if (key === this.key) {
        this.win = { key, offset: page.offset, rows: page.devices };
        this.total = page.total;
        this.version = page.version;
        this.loaded = true;
        this.hooks.onSummary(page);
      }
    } catch (err) {
      if (err.name !== 'AbortError') this.hooks.onError(err);
    } finally {
      this.inflight = null;
    }
    this.#render();
    if (this.again || this.stale || key !== this.key) {
      this.again = false;
      this.#fetch();
    } else {
      // The viewport may have moved while the request was out.
      this.#schedule();
    }
  }

  #row(i) {
    let el = this.pool[i];
    if (el) return el;
    el = document.createElement('div');
    el.className = 'vrow';
    el.setAttribute('role', 'row');
    el.cells = {};
    for (const c of CELLS) {
      const span = document.createElement('span');
      span.className = c;
      span.setAttribute('role', 'cell');
      el.appendChild(span);
      el.cells[c.split(' ')[0]] = span;
    }
    const clientBtn = document.createElement('button');
    clientBtn.type = 'button';
    clientBtn.dataset.action = 'open-client';
    clientBtn.title = 'Show this client (cluster-wide)';
    const n = document.createElement('span');
    n.className = 'n';
    el.cells.client.append(clientBtn, n);
    el.clientBtn = clientBtn;
    el.clientCount = n;
    const test = document.createElement('button');
    test.type = 'button';
    test.dataset.action = 'test';
    test.textContent = 'Test';
    test.title = "Send a test notification to this device's client";
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.dataset.action = 'remove';
    remove.textContent = 'Remove';
    remove.title = 'Remove this device: its stream is closed (4003) and its registration dropped';
    el.cells.actions.append(test, remove);
    el.removeBtn = remove;
    el.last = {};
    el.pos = -1;
    this.rowsEl.appendChild(el);
    this.pool[i] = el;
    return el;
  }

  #render() {
    const { first, count } = this.#visible();
    const height = `${this.total * ROW_H}px`;
    if (this.spacerHeight !== height) {
      this.spacer.style.height = height;
      this.spacerHeight = height;
    }
    this.empty.hidden = !(this.loaded && this.total === 0);
    // Row idx lives in slot idx % count: scrolling by three rows rewrites three rows, not all.
    if (this.pool.length > count) for (const el of this.pool.splice(count)) el.remove();
    const now = Date.now();
    const w = this.win;
    const sameKey = w.key === this.key;
    for (let idx = first; idx < first + count; idx++) {
      const el = this.#row(idx % count);
      if (idx >= this.total) {
        el.hidden = true;
        continue;
      }
      el.hidden = false;
      if (el.pos !== idx) {
        el.style.transform = `translateY(${idx * ROW_H}px)`;
        el.pos = idx;
      }
      const d = sameKey ? w.rows[idx - w.offset] : undefined;
      const next = sameKey ? w.rows[idx + 1 - w.offset] : undefined;
      // The tree: └ for a client's last device, ├ before it; the top row always names its client.
      const lastOfClient = d ? (next ? next.clientId !== d.clientId : idx + 1 >= this.total) : false;
      fill(el, d, idx, now, idx === first, lastOfClient);
    }
  }
}

/** Writes one row; touches the DOM only where a value changed. */
function fill(el, d, idx, now, top, lastOfClient) {
  const set = (cell, text, ts) => {
    const span = el.cells[cell];
    if (el.last[cell] !== text) {
      span.textContent = text;
      el.last[cell] = text;
    }
    // The tooltip (an absolute time) is formatted only when its timestamp changed.
    if (ts !== undefined && el.last[`${cell}:ts`] !== ts) {
      span.title = when(ts);
      el.last[`${cell}:ts`] = ts;
    }
  };
  if (!d) {
    if (el.last.id !== null) {
      el.last = { id: null };
      el.className = 'vrow loading';
      for (const c of Object.values(el.cells)) if (c !== el.cells.actions && c !== el.cells.client) c.textContent = '…';
      el.clientBtn.textContent = '';
      el.clientCount.textContent = '';
      el.cells.actions.hidden = true;
      delete el.dataset.client;
      delete el.dataset.device;
    }
    return;
  }
  const id = d.connectionId;
  if (el.last.id !== id) {
    // A different device in this slot: forget every cached cell and any armed removal.
    el.last = { id };
    el.cells.actions.hidden = false;
    delete el.removeBtn.dataset.armed;
    el.removeBtn.textContent = 'Remove';
    el.dataset.client = d.clientId;
    el.dataset.device = d.deviceId;
  }
  if (el.last.first !== d.firstOfClient) {
    el.className = d.firstOfClient ? 'vrow first' : 'vrow';
    el.last.first = d.firstOfClient;
  }
  const showClient = d.firstOfClient || top;
  const shown = showClient ? `${d.clientId}\u0000${d.clientDevices}` : '';
  if (el.last.clientShown !== shown) {
    el.clientBtn.textContent = showClient ? d.clientId : '';
    el.clientBtn.hidden = !showClient;
    el.clientCount.textContent = showClient ? `(${d.clientDevices})` : '';
    el.last.clientShown = shown;
  }
  const branch = lastOfClient ? '└' : '├';
  if (el.last.branch !== branch) {
    el.cells.device.dataset.branch = branch;
    el.last.branch = branch;
  }
  set('device', d.deviceId);
  set('transport', d.transport);
  if (el.last.transportClass !== d.transport) {
    el.cells.transport.className = `transport t-${d.transport}`;
    el.last.transportClass = d.transport;
  }
  set('node', d.node);
  if (el.last.state !== d.state) {
    el.cells.state.textContent = '';
    const pill = document.createElement('span');
    pill.className = `state state-${d.state}`;
    pill.textContent = d.state;
    el.cells.state.appendChild(pill);
    el.last.state = d.state;
  }
  set('since', age(d.connectedAt, now), d.connectedAt);
  set('heartbeat', d.lastHeartbeatAt === null ? '—' : `${age(d.lastHeartbeatAt, now)} ago · ${d.rttMs === null ? '—' : `${d.rttMs} ms`}`, d.lastHeartbeatAt);
  set('notified', d.lastNotificationAt === null ? 'never' : `${age(d.lastNotificationAt, now)} ago`, d.lastNotificationAt);
  set('count', int(d.notificationCount));
  set('queue', bytes(d.queuedBytes));
}
