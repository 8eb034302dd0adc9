import { type Cursor, decodeCursor, encodeCursor, type StreamPos, streamIdToPos } from '../core/cursor.js';
import type { StoredNotification } from '../core/types.js';

/**
 * Messages between nodes on Redis pub/sub (a stream's channel: notifications; a node's inbox
 * channel: kicks and answers). On the wire they are short JSON objects with one-letter fields;
 * this file is the only one that knows them (the store's append script writes a notification
 * message from {@link notificationFrame}):
 *
 * - `{k:'e', o: originNode, p, v, e, j, t, r?}`: a notification as the Redis store's append script
 *   publishes it (see {@link entryFrame}); decoded to a `notification` message
 * - `{k:'n', o: originNode, n: StoredNotification}`: a notification or an inbox event (with its
 *   `kind`, `event`, and on a `state` event the `counts` read for the client's devices) to hand to
 *   local sessions; its inbox fields (`replaces`, `excludeDevices`, …) travel as they are
 * - `{k:'kick', c, d, s: sessionId, r: reason, e: epoch}`: close that stream of a device
 * - `{k:'answer', c, d, s: sessionId, cur: cursor|null}`: a heartbeat answer (and ack) for that stream
 */
export type WireMessage = NotificationMessage | KickMessage | AnswerMessage;

/** A stored notification for this node's sessions. */
export interface NotificationMessage {
  kind: 'notification';
  /** The node that published it (it delivered to its own sessions already). */
  origin: string;
  notification: StoredNotification;
}

/** Why a node asks another to close (or forget) a device's stream. */
export type KickReason = 'replaced' | 'client-limit' | 'removed';

/** Close the device's stream `sessionId` (replaced, evicted), or forget the device (removed). */
export interface KickMessage {
  kind: 'kick';
  clientId: string;
  deviceId: string;
  sessionId: string;
  reason: KickReason;
  /** The presence epoch of the claim that caused it (0 for `removed`: the holder takes its own). */
  epoch: number;
}

/** A heartbeat answer (and an ack when `cursor` is set) that reached another node. */
export interface AnswerMessage {
  kind: 'answer';
  clientId: string;
  deviceId: string;
  sessionId: string;
  cursor: Cursor | null;
}

/**
 * The frame of a stream-entry message, the form in which the Redis store's append script publishes
 * a notification it has just stored (it knows the position only as it runs, and builds the text by
 * concatenation, the cheapest thing Lua can do):
 * `{"k":"e","o":origin,"p":"<ms-seq>","v":"<prev ms-seq or ''>","e":"<epoch>","j":<the stored body>,"t":{<the other fields>}[,"r":"<replaced id>"]}`
 * — `head` is everything up to the position, `tail` the closing brace. Decoded to a `notification`.
 */
export function entryFrame(origin: string): { head: string; tail: string } {
  return { head: `{"k":"e","o":${JSON.stringify(origin)},"p":"`, tail: '}' };
}

/**
 * A test that tells, from its first bytes and without decoding it, whether a pub/sub message is a
 * notification `origin` published itself (a stream-entry or a `notification` message; see
 * {@link entryFrame} and {@link encodeWire}, whose field order it relies on). A node already
 * delivered its own publishes to its sessions: it drops their echo on the channels it follows
 * instead of parsing each one.
 */
export function ownNotification(origin: string): (raw: Buffer) => boolean {
  const id = JSON.stringify(origin);
  const prefixes = [Buffer.from(entryFrame(origin).head), Buffer.from(`{"k":"n","o":${id},`)];
  return (raw) => prefixes.some((p) => raw.length > p.length && p.compare(raw, 0, p.length) === 0);
}

/** The JSON text of a message, as other nodes decode it with {@link decodeWire}. */
export function encodeWire(m: WireMessage): string {
  switch (m.kind) {
    case 'notification':
      return JSON.stringify({ k: 'n', o: m.origin, n: m.notification });
    case 'kick':
      return JSON.stringify({ k: 'kick', c: m.clientId, d: m.deviceId, s: m.sessionId, r: m.reason, e: m.epoch });
    case 'answer':
      return JSON.stringify({ k: 'answer', c: m.clientId, d: m.deviceId, s: m.sessionId, cur: m.cursor === null ? null : encodeCursor(m.cursor) });
  }
}

/**
 * `raw` as JSON, or undefined when it is not JSON: what nodes read from Redis (messages, registry
 * entries, device figures) is decoded without throwing, a malformed value rejected like any other.
 */
export function parseJsonOrUndefined(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * Decodes a message from another node; null when it is not one (not JSON, an unknown kind, a
 * field missing or of the wrong type). Never throws: a bad message must not stop the subscriber.
 */
export function decodeWire(raw: string | Buffer): WireMessage | null {
  const v = parseJsonOrUndefined(typeof raw === 'string' ? raw : raw.toString());
  if (!isObject(v)) return null;
  if (v.k === 'n') return typeof v.o === 'string' && isNotification(v.n) ? { kind: 'notification', origin: v.o, notification: v.n } : null;
  if (v.k === 'e') return typeof v.o === 'string' ? entryNotification(v) : null;
  if (typeof v.c !== 'string' || typeof v.d !== 'string' || typeof v.s !== 'string') return null;
  const target = { clientId: v.c, deviceId: v.d, sessionId: v.s };
  if (v.k === 'kick') {
    if ((v.r !== 'replaced' && v.r !== 'client-limit' && v.r !== 'removed') || !Number.isFinite(v.e)) return null;
    return { kind: 'kick', ...target, reason: v.r, epoch: v.e as number };
  }
  if (v.k === 'answer') {
    if (v.cur === null) return { kind: 'answer', ...target, cursor: null };
    const cursor = typeof v.cur === 'string' ? decodeCursor(v.cur) : undefined;
    return cursor ? { kind: 'answer', ...target, cursor } : null;
  }
  return null;
}

const STREAM_ID = /^\d{1,16}-\d{1,16}$/;

/** A stream-entry message's notification (see {@link entryFrame}), as a `notification` message; null when malformed. */
function entryNotification(v: Record<string, unknown>): WireMessage | null {
  if (typeof v.p !== 'string' || !STREAM_ID.test(v.p) || typeof v.v !== 'string' || (v.v !== '' && !STREAM_ID.test(v.v))) return null;
  if (typeof v.e !== 'string' || !isObject(v.j) || !isObject(v.t) || (v.r !== undefined && typeof v.r !== 'string')) return null;
  const n: Record<string, unknown> = { ...v.j, ...v.t, pos: streamIdToPos(v.p), prev: v.v === '' ? null : streamIdToPos(v.v), epoch: v.e };
  if (v.r !== undefined) n.replaces = v.r;
  return isNotification(n) ? { kind: 'notification', origin: v.o as string, notification: n } : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPos(v: unknown): v is StreamPos {
  return isObject(v) && Number.isSafeInteger(v.ms) && Number.isSafeInteger(v.seq);
}

const stringOrNull = (v: unknown) => v === null || typeof v === 'string';

const KINDS = new Set(['state', 'update', 'delete']);

function isCounts(v: unknown): boolean {
  return isObject(v) && Number.isSafeInteger(v.unseen) && Number.isSafeInteger(v.unread);
}

/** A `state` event's counts: a base and counts per device. */
function isEventCounts(v: unknown): boolean {
  return isObject(v) && isCounts(v.base) && isObject(v.devices) && Object.values(v.devices).every(isCounts);
}

/** The inbox fields an entry may carry: an event's kind and payload, counts, excluded devices, the item it replaces. */
function inboxFieldsOk(v: Record<string, unknown>): boolean {
  if (v.kind !== undefined && (typeof v.kind !== 'string' || !KINDS.has(v.kind) || !isObject(v.event))) return false;
  if (v.counts !== undefined && !isEventCounts(v.counts)) return false;
  if (v.excludeDevices !== undefined && !(Array.isArray(v.excludeDevices) && v.excludeDevices.every((d) => typeof d === 'string'))) return false;
  return v.replaces === undefined || typeof v.replaces === 'string';
}

/** What ordering and delivery rely on: targets, positions, epoch, the frame's text fields, and the inbox fields. */
function isNotification(v: unknown): v is StoredNotification {
  if (!isObject(v)) return false;
  return (
    inboxFieldsOk(v) &&
    typeof v.id === 'string' &&
    stringOrNull(v.clientId) &&
    stringOrNull(v.deviceId) &&
    typeof v.title === 'string' &&
    typeof v.message === 'string' &&
    typeof v.service === 'string' &&
    typeof v.ts === 'number' &&
    (v.expiresAt === null || typeof v.expiresAt === 'number') &&
    isPos(v.pos) &&
    (v.prev === null || isPos(v.prev)) &&
    typeof v.epoch === 'string'
  );
}
