import { invalid } from './errors.js';
import { checkId } from './ids.js';
import { MAX_PAGE, MAX_STATE_IDS } from './inbox.js';
import { checkWellFormed } from './publish-input.js';
import type { InboxFilter, ItemPatch } from './types.js';

/**
 * The inbox's inputs as every protocol receives them (HTTP bodies and query strings, the WebSocket
 * `state` frame, gRPC): validated once here, each fault a HERALD_ERR_INVALID naming its field
 * (PROTOCOL.md "Inbox": `limit` outside 1..100, unknown `filter`, missing or invalid `device`,
 * `ids` and `all` together or neither, non-boolean flags).
 */

/** A notification id: server-minted, or a publisher's idempotency key (which allows `:`). */
const NOTIFICATION_ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
const FILTERS: readonly string[] = ['unread', 'archived', 'all'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The flags and items of a state change, as given (who makes it and in which view is the caller's). */
export interface StateInput {
  ids?: string[];
  all?: true;
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
}

/** Throws naming `field` unless `value` is a notification id. */
export function checkNotificationId(field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw invalid(field, 'required');
  if (typeof value !== 'string' || !NOTIFICATION_ID_RE.test(value)) throw invalid(field, 'must be 1-128 characters of A-Z a-z 0-9 . _ : - @');
  return value;
}

/**
 * A state change (`POST .../notifications/state`, the WebSocket `state` frame): exactly one of
 * `ids` (at most 1000 notification ids; duplicates kept, the store counts each once) and
 * `all: true`; at least one boolean flag; `read: true` with `seen: false` refused (read implies
 * seen). Other fields are the caller's (`device`, `type`).
 */
export function parseStateInput(body: unknown): StateInput {
  if (!isObject(body)) throw invalid('body', 'must be an object');
  const hasIds = body.ids !== undefined;
  const hasAll = body.all !== undefined;
  if (hasIds === hasAll) throw invalid(hasIds ? 'all' : 'ids', 'give ids or all: true, not both nor neither');
  const out: StateInput = {};
  if (hasIds) {
    if (!Array.isArray(body.ids)) throw invalid('ids', `must be an array of at most ${MAX_STATE_IDS} ids`);
    if (body.ids.length > MAX_STATE_IDS) throw invalid('ids', `must hold at most ${MAX_STATE_IDS} ids (got ${body.ids.length})`);
    for (const [i, id] of body.ids.entries()) checkNotificationId(`ids[${i}]`, id);
    out.ids = body.ids as string[];
  } else if (body.all !== true) throw invalid('all', 'must be true');
  else out.all = true;
  let any = false;
  for (const f of ['seen', 'read', 'archived'] as const) {
    const v = body[f];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw invalid(f, 'must be a boolean');
    out[f] = v;
    any = true;
  }
  if (!any) throw invalid('seen', 'give at least one of seen, read, archived');
  if (out.seen === false && out.read === true) throw invalid('seen', 'cannot be false when read is true (read implies seen)');
  return out;
}

/** `device` of a device-side request: required, an id. */
export function parseDevice(value: unknown): string {
  return checkId('device', value);
}

/** `device` of a publisher-side request: optional (absent = the backend's view of every device). */
export function parseOptionalDevice(value: unknown): string | null {
  return value === undefined || value === null || value === '' ? null : checkId('device', value);
}

/** A listing's query string: `limit` (1..100, default 20), `before` (a `next` token), `filter`. */
export function parseListQuery(q: Record<string, unknown>): { limit: number; before: string | null; filter?: InboxFilter } {
  let limit = 20;
  if (q.limit !== undefined) {
    const raw = q.limit;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw invalid('limit', `must be an integer 1..${MAX_PAGE}`);
    limit = n;
  }
  let before: string | null = null;
  if (q.before !== undefined && q.before !== '') {
    if (typeof q.before !== 'string') throw invalid('before', 'must be the `next` of a previous page');
    before = q.before;
  }
  const out: { limit: number; before: string | null; filter?: InboxFilter } = { limit, before };
  if (q.filter !== undefined && q.filter !== '') {
    if (typeof q.filter !== 'string' || !FILTERS.includes(q.filter)) throw invalid('filter', 'must be one of unread, archived, all');
    out.filter = q.filter as InboxFilter;
  }
  return out;
}

/** `PATCH .../notifications/<id>`: at least one of `title` (≤ 1024), `message`, `data`; strings well-formed. */
export function parseItemPatch(body: unknown): ItemPatch {
  if (!isObject(body)) throw invalid('body', 'must be an object');
  const out: ItemPatch = {};
  for (const name of ['title', 'message'] as const) {
    const v = body[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw invalid(name, 'must be a string');
    if (name === 'title' && v.length > 1024) throw invalid(name, 'must be at most 1024 characters');
    if (!v.isWellFormed()) throw invalid(name, 'must be well-formed Unicode (it holds a lone surrogate)');
    out[name] = v;
  }
  if (body.data !== undefined) {
    checkWellFormed(body.data, 'data');
    out.data = body.data;
  }
  if (out.title === undefined && out.message === undefined && out.data === undefined) throw invalid('body', 'give at least one of title, message, data');
  return out;
}
