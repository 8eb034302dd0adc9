// The client panel's inbox: the client's items with their state, as the backend sees them
// (GET /api/v1/clients/<c>/notifications: client-wide items, broadcasts, and every device's
// targeted items, each with its deviceId). Read-only: the state is the client's to change.

import { request, seg } from './api.js';
import { age, int, when } from './format.js';

/** How often the open panel's inbox is read again at most (the feed ticks every second). */
const REFRESH_MS = 2000;
const LIMIT = 20;

/** One item's state in one word: what a support operator asks first. */
export function itemState(i) {
  if (i.archivedAt !== null) return 'archived';
  if (i.readAt !== null) return 'read';
  if (i.seenAt !== null) return 'seen';
  return 'unseen';
}

export class ClientInbox {
  /**
   * @param {{list: HTMLElement, counts: HTMLElement, note: HTMLElement}} els
   * @param {(err: Error) => void} onError 401s and the like (the caller signs out)
   */
  constructor(els, onError) {
    this.els = els;
    this.onError = onError;
    this.client = null;
    this.lastAt = 0;
    this.inflight = null;
  }

  /** Shows `client`'s inbox (null: none), read now. */
  show(client) {
    this.client = client;
    this.lastAt = 0;
    this.inflight?.abort();
    this.inflight = null;
    this.els.list.replaceChildren();
    this.els.counts.textContent = '';
    this.els.note.textContent = '';
    if (client) this.refresh(true);
  }

  /** Reads the inbox again: at once when `now`, else at most every REFRESH_MS. */
  async refresh(now = false) {
    const client = this.client;
    if (!client || this.inflight || (!now && Date.now() - this.lastAt < REFRESH_MS)) return;
    const ctl = new AbortController();
    this.inflight = ctl;
    this.lastAt = Date.now();
    let page;
    try {
      page = await request('GET', `/api/v1/clients/${seg(client)}/notifications?limit=${LIMIT}&filter=all`, undefined, { signal: ctl.signal });
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (client === this.client) this.els.note.textContent = err.status === 404 ? 'This node has no inbox.' : `Inbox: ${err.message}`;
      this.onError(err);
      return;
    } finally {
      if (this.inflight === ctl) this.inflight = null;
    }
    if (client === this.client) this.render(page);
  }

  render(page) {
    const now = Date.now();
    this.els.counts.textContent = `${int(page.unread)} unread · ${int(page.unseen)} unseen`;
    this.els.note.textContent = page.items.length === 0 ? 'No items.' : page.next ? `The newest ${page.items.length}.` : '';
    const rows = page.items.map((i) => {
      const li = document.createElement('li');
      const state = itemState(i);
      li.dataset.id = i.id;
      li.dataset.state = state;
      const head = document.createElement('div');
      const title = document.createElement('b');
      title.textContent = i.title;
      const pill = document.createElement('span');
      pill.className = `state item-${state}`;
      pill.textContent = state;
      const target = document.createElement('span');
      target.className = 'where';
      target.textContent = i.broadcast ? 'broadcast' : i.deviceId ? `→ ${i.deviceId}` : 'all devices';
      head.append(title, pill, target);
      const more = document.createElement('small');
      const times = [`${age(i.ts, now)} ago`];
      if (i.version > 1) times.push(`v${i.version}`);
      if (i.readAt !== null) times.push(`read ${age(i.readAt, now)} ago`);
      else if (i.seenAt !== null) times.push(`seen ${age(i.seenAt, now)} ago`);
      if (i.archivedAt !== null) times.push(`archived ${age(i.archivedAt, now)} ago`);
      more.textContent = `${i.message} · ${times.join(' · ')}`;
      more.title = `published ${when(i.ts)} · id ${i.id}`;
      li.append(head, more);
      return li;
    });
    this.els.list.replaceChildren(...rows);
  }
}
