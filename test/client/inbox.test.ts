import { describe, expect, it } from 'vitest';
import type { DeviceHttp } from '../../src/client/device-http.js';
import { Inbox, type InboxFeed } from '../../src/client/inbox.js';
import type { HeraldNotification, InboxItem, InboxPage, WelcomeFrame } from '../../src/protocol/frames.js';

/**
 * The inbox's bookkeeping without a server: frames in, HTTP answered by hand. What a real node
 * sends is in sdk-inbox.test.ts; here the cases a live test cannot time (answers racing frames,
 * replays, a lost resume).
 */

interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  resolve(v: unknown): void;
}

/** By default every reading of the clock is 10 s after the last: no count adjustment looks racy. */
function setup(max = 500, now?: () => number) {
  let t = 0;
  const calls: Call[] = [];
  const http = {
    request: (method: string, path: string, query: Record<string, string>, body?: unknown) =>
      new Promise((resolve) => calls.push({ method, path, query, body, resolve })),
  } as unknown as DeviceHttp;
  let feed!: InboxFeed;
  const errors: Error[] = [];
  const clock = now ?? (() => (t += 10_000));
  const inbox = new Inbox({ http, device: 'laptop', max, onError: (e) => errors.push(e), now: clock, resyncDelay: () => 0 }, (f) => {
    feed = f;
  });
  const counts: { unseen: number; unread: number }[] = [];
  inbox.on('counts', (c) => counts.push(c));
  return { inbox, feed, calls, counts, errors };
}

const welcome = (over: Partial<WelcomeFrame> = {}): WelcomeFrame => ({
  type: 'welcome',
  connectionId: 'alice:laptop',
  heartbeat: { intervalMs: 1000, timeoutMs: 500 },
  resumed: true,
  pending: 0,
  unseen: 0,
  unread: 0,
  ...over,
});

let seq = 0;
const note = (id: string, over: Partial<HeraldNotification> = {}): HeraldNotification => ({
  type: 'notification',
  id,
  cursor: `c${++seq}`,
  clientId: 'alice',
  title: id,
  message: 'm',
  service: 's',
  ts: 1000 + seq,
  ...over,
});

const item = (id: string, ts: number, over: Partial<InboxItem> = {}): InboxItem => ({
  id,
  clientId: 'alice',
  title: id,
  message: 'm',
  service: 's',
  data: null,
  ts,
  version: 1,
  updatedAt: ts,
  seenAt: null,
  readAt: null,
  archivedAt: null,
  ...over,
});

const page = (items: InboxItem[], unseen: number, unread: number): InboxPage => ({ items, unseen, unread, next: null });
const ids = (inbox: Inbox) => inbox.items.map((i) => i.id);
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Inbox', () => {
  it('counts from the welcome, then +1 per live notification but not for the replayed ones', () => {
    const { inbox, feed, counts } = setup();
    expect(inbox.counts).toBeNull();
    feed.welcome(welcome({ pending: 2, unseen: 5, unread: 4 }));
    feed.notification(note('r1'));
    feed.notification(note('r2'));
    expect(inbox.counts).toEqual({ unseen: 5, unread: 4 });
    feed.notification(note('live'));
    expect(inbox.counts).toEqual({ unseen: 6, unread: 5 });
    expect(ids(inbox)).toEqual(['live', 'r2', 'r1']);
    expect(inbox.get('live')).toMatchObject({ version: 1, seenAt: null, readAt: null, archivedAt: null });
    // The same notification again (a resume's overlap) is held once and counted once.
    feed.notification(note('live'));
    expect(inbox.counts).toEqual({ unseen: 6, unread: 5 });
    expect(counts).toEqual([
      { unseen: 5, unread: 4 },
      { unseen: 6, unread: 5 },
    ]);
  });

  it("applies state frames to held items in the changer's view; counts are the frame's", () => {
    const { inbox, feed } = setup();
    feed.welcome(welcome({ unseen: 0, unread: 0 }));
    feed.notification(note('a'));
    feed.notification(note('mine', { deviceId: 'laptop' }));
    const states: unknown[] = [];
    inbox.on('state', (f) => states.push(f));
    feed.frame({ type: 'state', cursor: 'x1', ids: ['a', 'unknown'], read: true, unseen: 1, unread: 1, by: 'phone' });
    expect(inbox.get('a')?.readAt).toEqual(expect.any(Number));
    expect(inbox.get('a')?.seenAt).toEqual(expect.any(Number));
    expect(inbox.counts).toEqual({ unseen: 1, unread: 1 });
    // The phone's "all" does not reach this laptop's own targeted item; the backend's does.
    feed.frame({ type: 'state', cursor: 'x2', all: true, archived: true, unseen: 1, unread: 1, by: 'phone' });
    expect(inbox.get('a')?.archivedAt).not.toBeNull();
    expect(inbox.get('mine')?.archivedAt).toBeNull();
    feed.frame({ type: 'state', cursor: 'x3', all: true, seen: true, unseen: 0, unread: 1, by: null });
    expect(inbox.get('mine')?.seenAt).not.toBeNull();
    expect(inbox.get('mine')?.readAt).toBeNull();
    expect(states).toHaveLength(3);
  });

  it('applies updates by version and deletes what it holds; a delete of an unheld item reads the counts again', async () => {
    const { inbox, feed, calls, errors } = setup();
    feed.welcome(welcome({ unseen: 3, unread: 3 }));
    feed.notification(note('a', { data: { v: 1 } }));
    const before = inbox.items;
    feed.frame({ type: 'update', cursor: 'u1', id: 'a', clientId: 'alice', title: 'A2', message: 'm2', service: 's', ts: 1, version: 2, updatedAt: 9 });
    expect(inbox.get('a')).toMatchObject({ title: 'A2', message: 'm2', version: 2, updatedAt: 9, data: null, clientId: 'alice' });
    expect(before[0].title).toBe('a');
    feed.frame({ type: 'update', cursor: 'u2', id: 'a', clientId: 'alice', title: 'old', message: 'm', service: 's', ts: 1, version: 2, updatedAt: 5 });
    expect(inbox.get('a')?.title).toBe('A2');
    feed.frame({ type: 'delete', cursor: 'd1', id: 'a' });
    expect(inbox.get('a')).toBeUndefined();
    expect(inbox.counts).toEqual({ unseen: 3, unread: 3 });
    expect(calls).toHaveLength(0);
    feed.frame({ type: 'delete', cursor: 'd2', id: 'elsewhere' });
    expect(calls).toMatchObject([{ method: 'GET', path: '/me/notifications', query: { device: 'laptop', limit: '1' } }]);
    calls[0].resolve(page([], 2, 1));
    await tick();
    expect(inbox.counts).toEqual({ unseen: 2, unread: 1 });
    expect(errors).toEqual([]);
  });

  it('checks with the server a count adjusted right after a frame whose counts may already include it', async () => {
    let t = 0;
    const { inbox, feed, calls } = setup(500, () => t);
    feed.welcome(welcome({ unseen: 1, unread: 1 }));
    t = 5000;
    feed.notification(note('later'));
    expect(inbox.counts).toEqual({ unseen: 2, unread: 2 });
    expect(calls).toHaveLength(0);
    // A state frame computed after the next notification was stored counts it already.
    feed.frame({ type: 'state', cursor: 's', ids: ['later'], read: true, unseen: 2, unread: 1, by: 'phone' });
    feed.notification(note('racy'));
    expect(inbox.counts).toEqual({ unseen: 3, unread: 2 });
    expect(calls).toMatchObject([{ method: 'GET', query: { limit: '1' } }]);
    // A frame that arrives while the answer is out makes it ambiguous: asked again.
    feed.notification(note('more'));
    calls[0].resolve(page([], 2, 1));
    await tick();
    expect(calls).toHaveLength(2);
    calls[1].resolve(page([], 3, 2));
    await tick();
    expect(inbox.counts).toEqual({ unseen: 3, unread: 2 });
  });

  it('a replaced item leaves with what it counted', () => {
    const { inbox, feed } = setup();
    feed.welcome(welcome({ unseen: 0, unread: 0 }));
    feed.notification(note('v1', { collapseKey: 'k' }));
    feed.notification(note('v2', { collapseKey: 'k', replaces: 'v1' }));
    expect(ids(inbox)).toEqual(['v2']);
    expect(inbox.counts).toEqual({ unseen: 1, unread: 1 });
  });

  it('merges listings newest first; a frame that arrived while the listing was out wins over it', async () => {
    const { inbox, feed, calls } = setup();
    feed.welcome(welcome({ unseen: 2, unread: 2 }));
    const listing = inbox.list({ limit: 2 });
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/me/notifications', query: { device: 'laptop', limit: '2' } });
    feed.notification(note('new', { ts: 5000 }));
    feed.frame({ type: 'state', cursor: 's', ids: ['b'], read: true, unseen: 2, unread: 1, by: 'phone' });
    calls[0].resolve({ ...page([item('b', 200), item('a', 100)], 2, 2), next: 'n1' });
    expect((await listing).next).toBe('n1');
    expect(ids(inbox)).toEqual(['new', 'b', 'a']);
    // The listing may have been read before the phone read b: the change is applied to it again.
    expect(inbox.get('b')?.readAt).toEqual(expect.any(Number));
    expect(inbox.get('a')?.readAt).toBeNull();
    // The counts are the frame's: the listing's may be older.
    expect(inbox.counts).toEqual({ unseen: 2, unread: 1 });
    const older = inbox.list({ before: 'n1' });
    expect(calls[1].query).toEqual({ device: 'laptop', before: 'n1' });
    calls[1].resolve(page([item('z', 100)], 9, 9));
    await older;
    // Same ts as a: an older page ranks below what is held; its counts are not taken.
    expect(ids(inbox)).toEqual(['new', 'b', 'a', 'z']);
    expect(inbox.counts).toEqual({ unseen: 2, unread: 1 });
    // A held item changed while a listing is out keeps the change; one deleted meanwhile stays gone.
    const again = inbox.list();
    feed.frame({ type: 'state', cursor: 's2', ids: ['a'], archived: true, unseen: 1, unread: 0, by: null });
    feed.frame({ type: 'delete', cursor: 'd', id: 'new' });
    calls[2].resolve(page([item('new', 5000), item('b', 200), item('a', 100)], 2, 2));
    await again;
    expect(inbox.get('a')?.archivedAt).not.toBeNull();
    expect(inbox.get('new')).toBeUndefined();
    // The deleted item was unseen and unread: it takes that off (unread does not go below 0).
    expect(inbox.counts).toEqual({ unseen: 0, unread: 0 });
  });

  it('posts changes in chunks of 1000 ids and applies the answer when no frame came meanwhile', async () => {
    const { inbox, feed, calls } = setup();
    feed.welcome(welcome({ unseen: 1, unread: 1 }));
    feed.notification(note('a'));
    const many = ['a', ...Array.from({ length: 1500 }, (_, i) => `x${i}`), 'a'];
    const done = inbox.markRead(many);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/me/notifications/state' });
    expect(calls[0].body).toMatchObject({ device: 'laptop', read: true });
    expect((calls[0].body as { ids: string[] }).ids).toHaveLength(1000);
    calls[0].resolve({ updated: 1, unseen: 1, unread: 1 });
    await tick();
    expect((calls[1].body as { ids: string[] }).ids).toHaveLength(501);
    calls[1].resolve({ updated: 0, unseen: 1, unread: 0 });
    expect(await done).toEqual({ updated: 1, unseen: 1, unread: 0 });
    expect(inbox.get('a')?.readAt).not.toBeNull();
    expect(inbox.counts).toEqual({ unseen: 1, unread: 0 });
    const all = inbox.archive('all');
    expect(calls[2].body).toEqual({ device: 'laptop', all: true, archived: true });
    calls[2].resolve({ updated: 1, unseen: 0, unread: 0 });
    await all;
    expect(inbox.get('a')?.archivedAt).not.toBeNull();
    await expect(inbox.markRead('a' as never)).rejects.toThrow(/array/);
  });

  it('lists again after a resume that lost frames, replacing what it held', async () => {
    const { inbox, feed, calls } = setup();
    feed.welcome(welcome());
    const first = inbox.list({ filter: 'unread' });
    calls[0].resolve(page([item('a', 100), item('gone', 50)], 2, 2));
    await first;
    feed.welcome(welcome({ resumed: false, unseen: 1, unread: 1 }));
    expect(calls[1].query).toEqual({ device: 'laptop', filter: 'unread' });
    calls[1].resolve(page([item('a', 100, { readAt: 7, seenAt: 7 })], 1, 1));
    await tick();
    expect(ids(inbox)).toEqual(['a']);
    expect(inbox.get('a')?.readAt).toBe(7);
  });

  it('holds at most inboxSize items, the newest', () => {
    const { inbox, feed } = setup(2);
    feed.welcome(welcome());
    for (const id of ['a', 'b', 'c']) feed.notification(note(id));
    expect(ids(inbox)).toEqual(['c', 'b']);
  });
});
