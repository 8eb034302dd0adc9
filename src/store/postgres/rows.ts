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

/** A notification from a notifications row (columns ms, seq, prev_ms, prev_seq, id, device_id, ts, expires_at, body). */
export function fromRow(clientId: string | null, epoch: string, r: Row): StoredNotification {
  const body = r.body as Body;
  return {
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
    pos: { ms: r.ms as number, seq: r.seq as number },
    prev: optPos(r.prev_ms, r.prev_seq),
    epoch,
  };
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
