/**
 * Arguments checked before any request, so a bad one never costs a round trip, and an id can never
 * turn into another path. Only the shape is checked here; the server judges the content (lengths,
 * `priority`, Unicode, …) and names the field in its 400.
 */
import { invalidArgument } from './errors.js';
import type { BatchItem, ListOptions, NotificationPatch, PublishBody, StateChange } from './types.js';

const ID_RE = /^[A-Za-z0-9._@-]{1,128}$/;
/** Notification ids: minted by the server, or the publisher's idempotency keys (which allow `:`). */
const NOTIFICATION_ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
const FILTERS = new Set(['unread', 'archived', 'all']);
export const MAX_BATCH = 1000;
const MAX_STATE_IDS = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A client or device id (1–128 of `A-Z a-z 0-9 . _ - @`). */
export function checkId(field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw invalidArgument(field, 'required');
  if (typeof value !== 'string' || !ID_RE.test(value)) throw invalidArgument(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ - @');
  return value;
}

export function checkNotificationId(field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw invalidArgument(field, 'required');
  if (typeof value !== 'string' || !NOTIFICATION_ID_RE.test(value)) throw invalidArgument(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ : - @');
  return value;
}

export function checkBody(body: unknown, prefix = ''): PublishBody {
  if (!isObject(body)) throw invalidArgument(prefix.replace(/\.$/, '') || 'body', 'must be an object');
  for (const name of ['title', 'message'] as const) {
    if (body[name] === undefined || body[name] === null) throw invalidArgument(prefix + name, 'required');
    if (typeof body[name] !== 'string') throw invalidArgument(prefix + name, 'must be a string');
  }
  return body as unknown as PublishBody;
}

/** The batch's shape; each item's content is the server's to judge, so a bad item fails alone. */
export function checkBatch(items: unknown): BatchItem[] {
  if (!Array.isArray(items)) throw invalidArgument('items', 'must be an array');
  if (items.length === 0) throw invalidArgument('items', 'must hold at least 1 item');
  if (items.length > MAX_BATCH) throw invalidArgument('items', `must hold at most ${MAX_BATCH} items (got ${items.length}); split it`);
  items.forEach((item, i) => {
    if (!isObject(item)) throw invalidArgument(`items[${i}]`, 'must be an object');
  });
  return items as BatchItem[];
}

export function checkListOptions(o: unknown): ListOptions {
  if (o === undefined) return {};
  if (!isObject(o)) throw invalidArgument('options', 'must be an object');
  if (o.device !== undefined) checkId('device', o.device);
  if (o.limit !== undefined && (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1 || o.limit > 100))
    throw invalidArgument('limit', 'must be an integer in 1..100');
  if (o.before !== undefined && (typeof o.before !== 'string' || o.before === '')) throw invalidArgument('before', 'must be a cursor (a non-empty string)');
  if (o.filter !== undefined && !FILTERS.has(o.filter as string)) throw invalidArgument('filter', 'must be one of unread, archived, all');
  return o as ListOptions;
}

export function checkStateChange(c: unknown): StateChange {
  if (!isObject(c)) throw invalidArgument('body', 'must be an object');
  const hasIds = c.ids !== undefined;
  const hasAll = c.all !== undefined;
  if (hasIds === hasAll) throw invalidArgument(hasIds ? 'all' : 'ids', 'give ids or all: true, not both nor neither');
  if (hasIds) {
    if (!Array.isArray(c.ids) || c.ids.length > MAX_STATE_IDS) throw invalidArgument('ids', `must be an array of at most ${MAX_STATE_IDS} ids`);
    for (const [i, id] of c.ids.entries()) checkNotificationId(`ids[${i}]`, id);
  } else if (c.all !== true) throw invalidArgument('all', 'must be true');
  const flags = (['seen', 'read', 'archived'] as const).filter((f) => c[f] !== undefined);
  if (flags.length === 0) throw invalidArgument('seen', 'give at least one of seen, read, archived');
  for (const f of flags) if (typeof c[f] !== 'boolean') throw invalidArgument(f, 'must be a boolean');
  if (c.device !== undefined) checkId('device', c.device);
  return c as StateChange;
}

export function checkPatch(p: unknown): NotificationPatch {
  if (!isObject(p)) throw invalidArgument('body', 'must be an object');
  if (p.title === undefined && p.message === undefined && p.data === undefined) throw invalidArgument('body', 'give at least one of title, message, data');
  for (const name of ['title', 'message'] as const) if (p[name] !== undefined && typeof p[name] !== 'string') throw invalidArgument(name, 'must be a string');
  return p as NotificationPatch;
}
