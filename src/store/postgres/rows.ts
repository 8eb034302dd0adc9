import pg from 'pg';
import type { StreamPos } from '../../core/cursor.js';
import type { PublishInput, StoredNotification } from '../../core/types.js';
import { BROADCAST_STREAM } from './queries.js';

/** The `body` column: what a notification carries besides its key, position and targets. */
export interface Body {
  title: string;
  message: string;
  service: string;
  data: unknown;
  priority?: PublishInput['priority'];
  /** The publish's collapse key (also in the `collapse_key` column once it holds it). */
  collapseKey?: string;
  /** Devices that never get a frame for it. */
  excludeDevices?: string[];
}

export type Row = Record<string, unknown>;

/** int8 as a JS number: positions (ms) and sequences stay far below 2^53. */
export const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function optPos(ms: unknown, seq: unknown): StreamPos | null {
  return ms === null || ms === undefined ? null : { ms: ms as number, seq: seq as number };
}

/**
 * A stream entry from a notifications row (columns ms, seq, prev_ms, prev_seq, id, device_id, ts,
 * expires_at, body, and optionally replaces) or an events row (kind, event; no body).
 */
export function fromRow(clientId: string | null, epoch: string, r: Row): StoredNotification {
  const pos = { ms: r.ms as number, seq: r.seq as number };
  const prev = optPos(r.prev_ms, r.prev_seq);
  if (r.kind !== null && r.kind !== undefined) {
    return {
      id: r.id as string,
      clientId,
      deviceId: (r.device_id as string | null) ?? null,
      title: '',
      message: '',
      service: '',
      data: null,
      ts: r.ts as number,
      expiresAt: null,
      pos,
      prev,
      epoch,
      kind: r.kind as 'state' | 'update' | 'delete',
      event: r.event as StoredNotification['event'],
    };
  }
  const body = r.body as Body;
  const n: { -readonly [K in keyof StoredNotification]: StoredNotification[K] } = {
    id: r.id as string,
    clientId,
    deviceId: (r.device_id as string | null) ?? null,
    title: body.title,
    message: body.message,
    service: body.service,
    data: body.data ?? null,
    ts: r.ts as number,
    expiresAt: (r.expires_at as number | null) ?? null,
    priority: body.priority,
    pos,
    prev,
    epoch,
    version: 1,
  };
  if (body.collapseKey !== undefined) n.collapseKey = body.collapseKey;
  if (typeof r.replaces === 'string') n.replaces = r.replaces;
  if (body.excludeDevices !== undefined && body.excludeDevices.length > 0) n.excludeDevices = body.excludeDevices;
  return n;
}

/** A notification from an append_batch / claim_outbox result row (r_* columns). */
export function fromResult(stream: string | null, r: Row): StoredNotification {
  const clientId = stream === null || stream === BROADCAST_STREAM ? null : stream;
  return fromRow(clientId, r.r_epoch as string, {
    id: r.r_id,
    device_id: r.r_device,
    ts: r.r_ts,
    expires_at: r.r_expires,
    body: r.r_body,
    ms: r.r_ms,
    seq: r.r_seq,
    prev_ms: r.r_prev_ms,
    prev_seq: r.r_prev_seq,
  });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}
