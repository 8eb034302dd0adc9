/**
 * The statements of the PostgreSQL store's hot paths, for one schema. Each is a named prepared
 * statement (parsed once per connection). Stream keys: a client id, or {@link BROADCAST_STREAM}.
 */

/** The broadcast stream's key: `!` cannot occur in a client id. */
export const BROADCAST_STREAM = '!broadcast';

/** Column list of a notification row as the store reads it back. */
const ROW = 'n.ms, n.seq, n.prev_ms, n.prev_seq, n.id, n.device_id, n.ts, n.expires_at, n.body, n.replaces';

/** Column list of a stream entry (a notification or an inbox event) read from {@link entries}. */
const ENTRY = `${ROW}, n.kind, n.event`;

/**
 * A stream's entries: notifications and inbox events (migration 002) in one relation with the same
 * columns (an event has no expiry, body or replaces; a notification no kind or event). PostgreSQL
 * pushes the stream and position conditions into both branches (their primary keys).
 */
const entries = (s: string) =>
  `(SELECT stream, ms, seq, prev_ms, prev_seq, id, device_id, ts, expires_at, body, replaces, NULL::text AS kind, NULL::json AS event FROM ${s}.notifications
    UNION ALL
    SELECT stream, ms, seq, prev_ms, prev_seq, id, device_id, ts, NULL::bigint, NULL::json, NULL::text, kind, event FROM ${s}.events)`;

/**
 * Events at or before what retention dropped are gone too (they are kept apart from notifications,
 * so notification retention does not delete them). Notifications are not filtered: `trimmed` also
 * moves when events are dropped, past notifications still held.
 */
const KEPT = `(x.kind IS NULL OR s.trimmed_ms IS NULL OR (x.ms, x.seq) > (s.trimmed_ms, s.trimmed_seq))`;

/** A newer mark (epoch, ms, seq) replaces an older one: another epoch, or a later position in the same one (core/cursor.ts laterMark). */
const takes = (old: string, neu: string, epoch: string, ms: string, seq: string) =>
  `(${neu}.${ms} IS NOT NULL AND (${old}.${ms} IS NULL OR ${old}.${epoch} IS DISTINCT FROM ${neu}.${epoch} OR (${neu}.${ms}, ${neu}.${seq}) > (${old}.${ms}, ${old}.${seq})))`;

export function queries(schema: string) {
  const s = `"${schema}"`;
  const takeC = takes('d', 'EXCLUDED', 'c_epoch', 'c_ms', 'c_seq');
  const takeB = takes('d', 'EXCLUDED', 'b_epoch', 'b_ms', 'b_seq');
  const takeA = takes('a', 'EXCLUDED', 'epoch', 'ms', 'seq');
  return {
    append: {
      name: `${schema}.append`,
      text: `SELECT * FROM ${s}.append_batch($1::text[], $2::bigint[], $3::text[], $4::boolean[], $5::text[], $6::bigint[], $7::boolean[], $8::text[], $9::integer, $10::bigint)`,
    },
    claim: {
      name: `${schema}.claim`,
      text: `SELECT * FROM ${s}.claim_outbox($1::integer, $2::bigint, $3::integer, $4::bigint, $5::text)`,
    },
    /**
     * One stream's bounds and the rows a reader gets ($1 stream, $2 now, $3 retention ms, $4/$5
     * after, $6 its epoch, $7 'resume' | 'pending', $8 device). Retention by age is applied as a
     * view here (rows older than now − retention count as trimmed: `old_*` is the newest of them);
     * appends delete them. Entries come after `after` when its epoch is the stream's; with another
     * epoch, a resume gets none and a pending read all (see placeReader/placePending).
     */
    replay: {
      name: `${schema}.replay`,
      text: `SELECT s.epoch, s.first_ms, s.first_seq, s.last_ms, s.last_seq, s.trimmed_ms, s.trimmed_seq, o.ms AS old_ms, o.seq AS old_seq, ${ENTRY}
        FROM ${s}.streams s
        LEFT JOIN LATERAL (SELECT x.ms, x.seq FROM ${entries(s)} x WHERE x.stream = s.stream AND x.ms < $2::bigint - $3::bigint
          ORDER BY x.ms DESC, x.seq DESC LIMIT 1) o ON true
        LEFT JOIN LATERAL (SELECT x.* FROM ${entries(s)} x
          WHERE x.stream = s.stream AND x.ms >= $2::bigint - $3::bigint AND ${KEPT}
            AND ($4::bigint IS NULL OR (s.epoch = $6::text AND (x.ms, x.seq) > ($4::bigint, $5::integer)) OR (s.epoch IS DISTINCT FROM $6::text AND $7::text = 'pending'))
            AND (x.device_id IS NULL OR x.device_id = $8::text)
            AND (x.expires_at IS NULL OR x.expires_at > $2::bigint)
          ORDER BY x.ms, x.seq) n ON true
        WHERE s.stream = $1::text
        ORDER BY n.ms, n.seq`,
    },
    heads: {
      name: `${schema}.heads`,
      text: `SELECT stream, epoch, last_ms, last_seq FROM ${s}.streams WHERE stream = $1::text OR stream = '${BROADCAST_STREAM}'`,
    },
    range: {
      name: `${schema}.range`,
      text: `SELECT s.epoch, ${ENTRY} FROM ${entries(s)} n JOIN ${s}.streams s ON s.stream = n.stream
        WHERE n.stream = $1::text AND ($2::bigint IS NULL OR (n.ms, n.seq) > ($2::bigint, $3::integer)) AND (n.ms, n.seq) <= ($4::bigint, $5::integer)
          AND (n.expires_at IS NULL OR n.expires_at > $6::bigint) AND ${KEPT.replaceAll('x.', 'n.')}
        ORDER BY n.ms, n.seq`,
    },
    getCursor: {
      name: `${schema}.get-cursor`,
      text: `SELECT c_epoch, c_ms, c_seq, b_epoch, b_ms, b_seq FROM ${s}.device_cursors WHERE client_id = $1::text AND device_id = $2::text`,
    },
    getAcked: {
      name: `${schema}.get-acked`,
      text: `SELECT epoch, ms, seq FROM ${s}.client_acks WHERE client_id = $1::text`,
    },
    /** Never backwards within an epoch, for the device and for the client's newest ack, in one statement. */
    saveCursor: {
      name: `${schema}.save-cursor`,
      text: `WITH d AS (
          INSERT INTO ${s}.device_cursors AS d (client_id, device_id, c_epoch, c_ms, c_seq, b_epoch, b_ms, b_seq)
          VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::integer, $6::text, $7::bigint, $8::integer)
          ON CONFLICT (client_id, device_id) DO UPDATE SET
            c_epoch = CASE WHEN ${takeC} THEN EXCLUDED.c_epoch ELSE d.c_epoch END,
            c_ms = CASE WHEN ${takeC} THEN EXCLUDED.c_ms ELSE d.c_ms END,
            c_seq = CASE WHEN ${takeC} THEN EXCLUDED.c_seq ELSE d.c_seq END,
            b_epoch = CASE WHEN ${takeB} THEN EXCLUDED.b_epoch ELSE d.b_epoch END,
            b_ms = CASE WHEN ${takeB} THEN EXCLUDED.b_ms ELSE d.b_ms END,
            b_seq = CASE WHEN ${takeB} THEN EXCLUDED.b_seq ELSE d.b_seq END,
            updated_at = now()
          RETURNING 1
        ), a AS (
          INSERT INTO ${s}.client_acks AS a (client_id, epoch, ms, seq)
          SELECT $1::text, $3::text, $4::bigint, $5::integer WHERE $4::bigint IS NOT NULL
          ON CONFLICT (client_id) DO UPDATE SET
            epoch = CASE WHEN ${takeA} THEN EXCLUDED.epoch ELSE a.epoch END,
            ms = CASE WHEN ${takeA} THEN EXCLUDED.ms ELSE a.ms END,
            seq = CASE WHEN ${takeA} THEN EXCLUDED.seq ELSE a.seq END
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM a) AS n`,
    },
    forgetDevice: {
      name: `${schema}.forget-device`,
      text: `DELETE FROM ${s}.device_cursors WHERE client_id = $1::text AND device_id = $2::text`,
    },
    /** External-log entries after $1 with their notification (gone: null columns), oldest first. */
    external: {
      name: `${schema}.external`,
      text: `SELECT x.xseq, x.node, x.stream, s.epoch, ${ROW} FROM ${s}.external_log x
        LEFT JOIN ${s}.notifications n ON n.stream = x.stream AND n.ms = x.ms AND n.seq = x.seq
        LEFT JOIN ${s}.streams s ON s.stream = x.stream
        WHERE x.xseq > $1::bigint ORDER BY x.xseq LIMIT $2::integer`,
    },
  };
}

export type Queries = ReturnType<typeof queries>;
