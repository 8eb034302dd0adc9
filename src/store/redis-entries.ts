import { type StreamPos, streamIdToPos } from '../core/cursor.js';
import type { PublishInput, StoredNotification } from '../core/types.js';

/** What is kept in a notification entry's `j` field (the rest is in fields of its own or in the key). `id` comes first: the scripts read it there. */
export interface Body {
  id: string;
  title: string;
  message: string;
  service: string;
  data: unknown;
  ts: number;
  priority?: PublishInput['priority'];
}

/** What is kept in an event entry's `j` field. */
interface EventBody {
  id: string;
  ts: number;
  event: StoredNotification['event'];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function optPos(id: string | null | undefined): StreamPos | null {
  return id ? streamIdToPos(id) : null;
}

/**
 * A stream entry as APPEND_LUA or an inbox script wrote it (redis-scripts.ts lists the fields):
 * its Redis id is its position; an event has a `t` field.
 */
export function fromEntry(clientId: string | null, epoch: string, id: string, fields: string[]): StoredNotification {
  let json: string | undefined;
  let device = '';
  let expires = '';
  let prev = '';
  let kind: StoredNotification['kind'];
  let collapseKey: string | undefined;
  let replaces: string | undefined;
  let excluded: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const v = fields[i + 1];
    switch (fields[i]) {
      case 'j':
        json = v;
        break;
      case 'd':
        device = v;
        break;
      case 'x':
        expires = v;
        break;
      case 'p':
        prev = v;
        break;
      case 't':
        kind = v as StoredNotification['kind'];
        break;
      case 'k':
        collapseKey = v;
        break;
      case 'r':
        replaces = v;
        break;
      case 'X':
        excluded = v;
        break;
    }
  }
  if (json === undefined) throw new Error(`stream entry ${id} has no body`);
  if (kind !== undefined) {
    const e = JSON.parse(json) as EventBody;
    return {
      id: e.id,
      clientId,
      deviceId: device === '' ? null : device,
      title: '',
      message: '',
      service: '',
      data: null,
      ts: e.ts,
      expiresAt: null,
      pos: streamIdToPos(id),
      prev: optPos(prev),
      epoch,
      kind,
      event: e.event,
    };
  }
  const body = JSON.parse(json) as Body;
  const n: Mutable<StoredNotification> = {
    id: body.id,
    clientId,
    deviceId: device === '' ? null : device,
    title: body.title,
    message: body.message,
    service: body.service,
    data: body.data,
    ts: body.ts,
    expiresAt: expires === '' ? null : Number(expires),
    priority: body.priority,
    pos: streamIdToPos(id),
    prev: optPos(prev),
    epoch,
    version: 1,
  };
  if (collapseKey !== undefined) n.collapseKey = collapseKey;
  if (replaces !== undefined) n.replaces = replaces;
  if (excluded !== undefined) n.excludeDevices = excluded.split(',');
  return n;
}

/** An event entry as the store hands it out (the same object fromEntry reads back). */
export function eventEntry(
  clientId: string | null,
  deviceId: string | null,
  kind: NonNullable<StoredNotification['kind']>,
  event: StoredNotification['event'],
  id: string,
  now: number,
  reply: { pos: string; prev: string; epoch: string },
): StoredNotification {
  return {
    id,
    clientId,
    deviceId,
    title: '',
    message: '',
    service: '',
    data: null,
    ts: now,
    expiresAt: null,
    pos: streamIdToPos(reply.pos),
    prev: optPos(reply.prev),
    epoch: reply.epoch,
    kind,
    event,
  };
}

/** The `j` of an event entry. */
export function eventJson(id: string, now: number, event: StoredNotification['event']): string {
  return JSON.stringify({ id, ts: now, event } satisfies EventBody);
}
