/**
 * The PostgreSQL schema, as versioned migrations applied in order by {@link migrate} (see
 * migrate.ts). Kept as TypeScript strings so `tsc` ships them in dist/ with the code that needs
 * them. `{{s}}` is the quoted schema name (DATABASE_SCHEMA), `{{channel}}` the schema's name
 * used as a NOTIFY channel prefix. A released migration is never edited: a change is a new one.
 *
 * Positions are `(ms, seq)` pairs as everywhere in Herald (core/cursor.ts). Stream keys: a client
 * id, or `!broadcast` (`!` cannot occur in an id).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const INIT = `
-- One row per stream (a client's, or the broadcast stream): its generation and bounds, locked by
-- every append (SELECT ... FOR UPDATE) so that positions and prev are exact across nodes.
CREATE TABLE {{s}}.streams (
  stream      text PRIMARY KEY,
  epoch       text NOT NULL,
  first_ms    bigint,
  first_seq   integer,
  last_ms     bigint,
  last_seq    integer,
  trimmed_ms  bigint,
  trimmed_seq integer,
  -- rows of this stream in notifications (count retention without counting), and the position ms
  -- of the oldest of them (age retention without looking; null when none)
  stored      integer NOT NULL DEFAULT 0,
  oldest_ms   bigint
);

-- Stored notifications, keyed by (stream, position); id is unique per stream (the idempotency
-- key, or a server UUIDv7). A per-client item state table (inbox: seen/read/archived) references
-- (stream, ms, seq) with ON DELETE CASCADE, so retention takes the state along.
CREATE TABLE {{s}}.notifications (
  stream      text NOT NULL,
  ms          bigint NOT NULL,
  seq         integer NOT NULL,
  prev_ms     bigint,
  prev_seq    integer,
  id          text NOT NULL,
  device_id   text,
  ts          bigint NOT NULL,
  expires_at  bigint,
  -- {title, message, service, data, priority?}: json, not jsonb nor text columns, because a title
  -- may hold U+0000, which no text value can and jsonb refuses.
  body        json NOT NULL,
  PRIMARY KEY (stream, ms, seq),
  UNIQUE (stream, id)
);

-- Acknowledged cursors: per device, and the newest client-stream ack of any device of a client.
CREATE TABLE {{s}}.device_cursors (
  client_id  text NOT NULL,
  device_id  text NOT NULL,
  c_epoch    text,
  c_ms       bigint,
  c_seq      integer,
  b_epoch    text,
  b_ms       bigint,
  b_seq      integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, device_id)
);

CREATE TABLE {{s}}.client_acks (
  client_id text PRIMARY KEY,
  epoch     text,
  ms        bigint NOT NULL,
  seq       integer NOT NULL
);

-- Seed 001's connections table: one row per registration, kept current by the nodes.
CREATE TABLE {{s}}.devices (
  connection_id        text PRIMARY KEY,
  client_id            text NOT NULL,
  device_id            text NOT NULL,
  service              text,
  transport            text NOT NULL,
  node                 text NOT NULL,
  state                text NOT NULL CHECK (state IN ('attached', 'detached')),
  connected_at         timestamptz NOT NULL,
  last_heartbeat_at    timestamptz,
  last_notification_at timestamptz,
  notification_count   bigint NOT NULL DEFAULT 0,
  detached_at          timestamptz
);
CREATE INDEX devices_client ON {{s}}.devices (client_id);

-- Transactional publishes waiting for a node to give them a position (publish() below).
CREATE TABLE {{s}}.outbox (
  seq        bigserial PRIMARY KEY,
  stream     text NOT NULL,
  id         text NOT NULL,
  device_id  text,
  title      text NOT NULL,
  message    text NOT NULL,
  data       jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream, id)
);

-- What the outbox claims stored, in claim order: nodes without a shared broker read it to deliver
-- another node's claims to their own devices.
CREATE TABLE {{s}}.external_log (
  xseq   bigserial PRIMARY KEY,
  node   text NOT NULL,
  stream text NOT NULL,
  ms     bigint NOT NULL,
  seq    integer NOT NULL,
  at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION {{s}}.uuidv7() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid::text
$$;

-- Appends a batch in one transaction. Arrays are parallel, one element per notification; within a
-- stream, array order is position order. Streams are locked one by one in one global order (by
-- key, "C" collation), so two batches never deadlock. For each item: retention by age (against the
-- stream's oldest row, kept in its streams row, so usually no query), the idempotency key (p_keyed:
-- the id is the publisher's; looked up in the table and among this batch's rows), the position
-- (XADD's rule: now-0, or last-(seq+1) when the clock has not passed the last position). Then, for
-- the whole batch at once: one INSERT of every stored row, one UPDATE of every stream, and
-- retention by count for the streams it filled (so within one batch a key stays known until the
-- batch's end). Returns one row per item: r_dup says the key matched a stored notification (whose
-- row is returned).
CREATE FUNCTION {{s}}.append_batch(
  p_streams text[], p_times bigint[], p_ids text[], p_keyed boolean[], p_devices text[], p_expires bigint[],
  p_store boolean[], p_bodies text[], p_maxlen integer, p_retms bigint)
RETURNS TABLE (r_i integer, r_dup boolean, r_epoch text, r_ms bigint, r_seq integer, r_prev_ms bigint,
  r_prev_seq integer, r_id text, r_device text, r_ts bigint, r_expires bigint, r_body json)
LANGUAGE plpgsql AS $$
DECLARE
  v_order integer[];
  k integer;
  j integer;
  v_cur text := NULL;
  st {{s}}.streams%ROWTYPE;
  v_row {{s}}.notifications%ROWTYPE;
  v_cut_ms bigint;
  v_cut_seq integer;
  v_n integer;
  -- this stream's keyed rows of this batch: key, index into the n_* arrays
  v_keys text[];
  v_keyrow integer[];
  v_pending_ms bigint;
  -- every stream's state after the batch
  s_stream text[] := '{}';
  s_first_ms bigint[] := '{}';
  s_first_seq integer[] := '{}';
  s_last_ms bigint[] := '{}';
  s_last_seq integer[] := '{}';
  s_trimmed_ms bigint[] := '{}';
  s_trimmed_seq integer[] := '{}';
  s_stored integer[] := '{}';
  s_oldest bigint[] := '{}';
  -- the rows to insert
  n_stream text[] := '{}';
  n_ms bigint[] := '{}';
  n_seq integer[] := '{}';
  n_prev_ms bigint[] := '{}';
  n_prev_seq integer[] := '{}';
  n_id text[] := '{}';
  n_device text[] := '{}';
  n_ts bigint[] := '{}';
  n_expires bigint[] := '{}';
  n_body text[] := '{}';
BEGIN
  SELECT array_agg(u.ord ORDER BY u.s COLLATE "C", u.ord) INTO v_order FROM unnest(p_streams) WITH ORDINALITY AS u(s, ord);
  FOREACH k IN ARRAY v_order LOOP
    IF v_cur IS DISTINCT FROM p_streams[k] THEN
      IF v_cur IS NOT NULL THEN
        s_stream := s_stream || v_cur; s_first_ms := s_first_ms || st.first_ms; s_first_seq := s_first_seq || st.first_seq;
        s_last_ms := s_last_ms || st.last_ms; s_last_seq := s_last_seq || st.last_seq; s_trimmed_ms := s_trimmed_ms || st.trimmed_ms;
        s_trimmed_seq := s_trimmed_seq || st.trimmed_seq; s_stored := s_stored || st.stored; s_oldest := s_oldest || st.oldest_ms;
      END IF;
      v_cur := p_streams[k];
      v_keys := '{}';
      v_keyrow := '{}';
      v_pending_ms := NULL;
      SELECT * INTO st FROM {{s}}.streams WHERE stream = v_cur FOR UPDATE;
      IF NOT FOUND THEN
        INSERT INTO {{s}}.streams (stream, epoch) VALUES (v_cur, lpad(to_hex(floor(random() * 4294967296)::bigint), 8, '0'))
          ON CONFLICT (stream) DO NOTHING;
        SELECT * INTO st FROM {{s}}.streams WHERE stream = v_cur FOR UPDATE;
      END IF;
    END IF;
    -- Retention by age: stored rows older than this item's now - retention go first.
    IF st.oldest_ms < p_times[k] - p_retms AND (v_pending_ms IS NULL OR st.oldest_ms < v_pending_ms) THEN
      SELECT n.ms, n.seq INTO v_cut_ms, v_cut_seq FROM {{s}}.notifications n
        WHERE n.stream = v_cur AND n.ms < p_times[k] - p_retms ORDER BY n.ms DESC, n.seq DESC LIMIT 1;
      IF FOUND THEN
        DELETE FROM {{s}}.notifications n WHERE n.stream = v_cur AND (n.ms, n.seq) <= (v_cut_ms, v_cut_seq);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        st.stored := st.stored - v_n;
        st.trimmed_ms := v_cut_ms;
        st.trimmed_seq := v_cut_seq;
      END IF;
      st.oldest_ms := coalesce((SELECT n.ms FROM {{s}}.notifications n WHERE n.stream = v_cur ORDER BY n.ms, n.seq LIMIT 1), v_pending_ms);
    END IF;
    IF p_keyed[k] AND st.stored > 0 THEN
      j := array_position(v_keys, p_ids[k]);
      IF j IS NOT NULL THEN
        j := v_keyrow[j];
        r_i := k; r_dup := true; r_epoch := st.epoch; r_ms := n_ms[j]; r_seq := n_seq[j]; r_prev_ms := n_prev_ms[j];
        r_prev_seq := n_prev_seq[j]; r_id := n_id[j]; r_device := n_device[j]; r_ts := n_ts[j]; r_expires := n_expires[j];
        r_body := n_body[j]::json;
        RETURN NEXT;
        CONTINUE;
      END IF;
      SELECT * INTO v_row FROM {{s}}.notifications n WHERE n.stream = v_cur AND n.id = p_ids[k];
      IF FOUND THEN
        r_i := k; r_dup := true; r_epoch := st.epoch; r_ms := v_row.ms; r_seq := v_row.seq;
        r_prev_ms := v_row.prev_ms; r_prev_seq := v_row.prev_seq; r_id := v_row.id; r_device := v_row.device_id;
        r_ts := v_row.ts; r_expires := v_row.expires_at; r_body := v_row.body;
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    r_i := k; r_dup := false; r_epoch := st.epoch; r_prev_ms := st.last_ms; r_prev_seq := st.last_seq;
    IF st.last_ms IS NULL OR p_times[k] > st.last_ms THEN
      r_ms := p_times[k]; r_seq := 0;
    ELSE
      r_ms := st.last_ms; r_seq := st.last_seq + 1;
    END IF;
    r_id := p_ids[k]; r_device := p_devices[k]; r_ts := p_times[k]; r_expires := p_expires[k];
    r_body := NULL;
    st.last_ms := r_ms;
    st.last_seq := r_seq;
    IF st.first_ms IS NULL THEN
      st.first_ms := r_ms;
      st.first_seq := r_seq;
    END IF;
    IF p_store[k] THEN
      n_stream := n_stream || v_cur; n_ms := n_ms || r_ms; n_seq := n_seq || r_seq; n_prev_ms := n_prev_ms || r_prev_ms;
      n_prev_seq := n_prev_seq || r_prev_seq; n_id := n_id || r_id; n_device := n_device || r_device; n_ts := n_ts || r_ts;
      n_expires := n_expires || r_expires; n_body := n_body || p_bodies[k];
      IF p_keyed[k] THEN
        v_keys := v_keys || r_id;
        v_keyrow := v_keyrow || cardinality(n_ms);
      END IF;
      st.stored := st.stored + 1;
      v_pending_ms := coalesce(v_pending_ms, r_ms);
      st.oldest_ms := coalesce(st.oldest_ms, r_ms);
    END IF;
    RETURN NEXT;
  END LOOP;
  IF v_cur IS NULL THEN
    RETURN;
  END IF;
  s_stream := s_stream || v_cur; s_first_ms := s_first_ms || st.first_ms; s_first_seq := s_first_seq || st.first_seq;
  s_last_ms := s_last_ms || st.last_ms; s_last_seq := s_last_seq || st.last_seq; s_trimmed_ms := s_trimmed_ms || st.trimmed_ms;
  s_trimmed_seq := s_trimmed_seq || st.trimmed_seq; s_stored := s_stored || st.stored; s_oldest := s_oldest || st.oldest_ms;

  INSERT INTO {{s}}.notifications (stream, ms, seq, prev_ms, prev_seq, id, device_id, ts, expires_at, body)
    SELECT u.stream, u.ms, u.seq, u.prev_ms, u.prev_seq, u.id, u.device, u.ts, u.expires, u.body::json
    FROM unnest(n_stream, n_ms, n_seq, n_prev_ms, n_prev_seq, n_id, n_device, n_ts, n_expires, n_body)
      AS u(stream, ms, seq, prev_ms, prev_seq, id, device, ts, expires, body);
  UPDATE {{s}}.streams t SET first_ms = u.first_ms, first_seq = u.first_seq, last_ms = u.last_ms, last_seq = u.last_seq,
      trimmed_ms = u.trimmed_ms, trimmed_seq = u.trimmed_seq, stored = u.stored, oldest_ms = u.oldest
    FROM unnest(s_stream, s_first_ms, s_first_seq, s_last_ms, s_last_seq, s_trimmed_ms, s_trimmed_seq, s_stored, s_oldest)
      AS u(stream, first_ms, first_seq, last_ms, last_seq, trimmed_ms, trimmed_seq, stored, oldest)
    WHERE t.stream = u.stream;
  -- Retention by count, for every stream this batch took past p_maxlen: exactly the newest stay.
  IF EXISTS (SELECT 1 FROM unnest(s_stored) c WHERE c > p_maxlen) THEN
    WITH over AS (
      SELECT u.stream, u.stored - p_maxlen AS excess FROM unnest(s_stream, s_stored) AS u(stream, stored) WHERE u.stored > p_maxlen
    ), cut AS (
      SELECT o.stream, x.ms, x.seq FROM over o
        CROSS JOIN LATERAL (SELECT n.ms, n.seq FROM {{s}}.notifications n WHERE n.stream = o.stream ORDER BY n.ms, n.seq OFFSET o.excess - 1 LIMIT 1) x
    ), gone AS (
      DELETE FROM {{s}}.notifications n USING cut WHERE n.stream = cut.stream AND (n.ms, n.seq) <= (cut.ms, cut.seq) RETURNING n.stream
    ), kept AS (
      SELECT c.stream, c.ms, c.seq, (SELECT n.ms FROM {{s}}.notifications n WHERE n.stream = c.stream AND (n.ms, n.seq) > (c.ms, c.seq)
        ORDER BY n.ms, n.seq LIMIT 1) AS oldest FROM cut c
    )
    UPDATE {{s}}.streams t SET stored = p_maxlen, trimmed_ms = kept.ms, trimmed_seq = kept.seq, oldest_ms = kept.oldest
      FROM kept WHERE t.stream = kept.stream;
  END IF;
END
$$;

-- A transactional publish, called inside the application's own transaction. It only queues: a
-- Herald node claims the row after commit (woken by the NOTIFY, which PostgreSQL sends only on
-- commit), gives it a position in the client's stream and delivers it. A rollback takes the row and
-- the NOTIFY with it. id is the idempotency key as in the HTTP API; returns the notification id.
CREATE FUNCTION {{s}}.publish(client_id text, title text, message text, data jsonb DEFAULT NULL, id text DEFAULT NULL, device_id text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_id text := coalesce(publish.id, {{s}}.uuidv7());
BEGIN
  IF publish.client_id IS NULL OR publish.client_id !~ '^[A-Za-z0-9._@-]{1,128}$' THEN
    RAISE EXCEPTION 'herald.publish: client_id must be 1-128 characters of A-Z a-z 0-9 . _ - @' USING ERRCODE = '22023';
  END IF;
  IF publish.device_id IS NOT NULL AND publish.device_id !~ '^[A-Za-z0-9._@-]{1,128}$' THEN
    RAISE EXCEPTION 'herald.publish: device_id must be 1-128 characters of A-Z a-z 0-9 . _ - @' USING ERRCODE = '22023';
  END IF;
  IF publish.id IS NOT NULL AND publish.id !~ '^[A-Za-z0-9._:@-]{1,128}$' THEN
    RAISE EXCEPTION 'herald.publish: id must be 1-128 characters of A-Z a-z 0-9 . _ : - @' USING ERRCODE = '22023';
  END IF;
  IF publish.title IS NULL OR publish.message IS NULL THEN
    RAISE EXCEPTION 'herald.publish: title and message are required' USING ERRCODE = '22023';
  END IF;
  IF length(publish.title) > 1024 THEN
    RAISE EXCEPTION 'herald.publish: title must be at most 1024 characters' USING ERRCODE = '22023';
  END IF;
  IF publish.id IS NOT NULL AND EXISTS (SELECT 1 FROM {{s}}.notifications n WHERE n.stream = publish.client_id AND n.id = publish.id) THEN
    RETURN v_id;
  END IF;
  INSERT INTO {{s}}.outbox (stream, id, device_id, title, message, data)
    VALUES (publish.client_id, v_id, publish.device_id, publish.title, publish.message, publish.data)
    ON CONFLICT (stream, id) DO NOTHING;
  PERFORM pg_notify('{{channel}}_outbox', '');
  RETURN v_id;
END
$$;

-- Moves up to p_limit outbox rows into their streams, in outbox order, one claimer at a time (a
-- transaction-level advisory lock: claims, and so external_log's order, are serialized). Rows are
-- deleted in the same transaction that stores them: each is claimed exactly once.
CREATE FUNCTION {{s}}.claim_outbox(p_limit integer, p_now bigint, p_maxlen integer, p_retms bigint, p_node text)
RETURNS TABLE (r_stream text, r_dup boolean, r_epoch text, r_ms bigint, r_seq integer, r_prev_ms bigint,
  r_prev_seq integer, r_id text, r_device text, r_ts bigint, r_expires bigint, r_body json)
LANGUAGE plpgsql AS $$
DECLARE
  v_streams text[];
  v_ids text[];
  v_devices text[];
  v_bodies text[];
  v_n integer;
  r record;
BEGIN
  -- Two-key form with Herald's key class ('HRLD', as the migration lock): never an application's one-key lock.
  IF NOT pg_try_advisory_xact_lock(1213353028, hashtext('{{channel}}_outbox')) THEN
    RETURN;
  END IF;
  WITH claimed AS (
    DELETE FROM {{s}}.outbox o WHERE o.seq IN (SELECT seq FROM {{s}}.outbox ORDER BY seq LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING o.*
  )
  SELECT array_agg(c.stream ORDER BY c.seq), array_agg(c.id ORDER BY c.seq), array_agg(c.device_id ORDER BY c.seq),
    array_agg(json_build_object('title', c.title, 'message', c.message, 'service', 'default', 'data', c.data)::text ORDER BY c.seq)
    INTO v_streams, v_ids, v_devices, v_bodies FROM claimed c;
  v_n := coalesce(array_length(v_streams, 1), 0);
  IF v_n = 0 THEN
    RETURN;
  END IF;
  FOR r IN SELECT * FROM {{s}}.append_batch(v_streams, array_fill(p_now, ARRAY[v_n]), v_ids, array_fill(true, ARRAY[v_n]), v_devices,
      array_fill(NULL::bigint, ARRAY[v_n]), array_fill(true, ARRAY[v_n]), v_bodies, p_maxlen, p_retms) a ORDER BY a.r_i LOOP
    r_stream := v_streams[r.r_i]; r_dup := r.r_dup; r_epoch := r.r_epoch; r_ms := r.r_ms; r_seq := r.r_seq;
    r_prev_ms := r.r_prev_ms; r_prev_seq := r.r_prev_seq; r_id := r.r_id; r_device := r.r_device; r_ts := r.r_ts;
    r_expires := r.r_expires; r_body := coalesce(r.r_body, v_bodies[r.r_i]::json);
    IF NOT r.r_dup THEN
      INSERT INTO {{s}}.external_log (node, stream, ms, seq) VALUES (p_node, r_stream, r_ms, r_seq);
    END IF;
    RETURN NEXT;
  END LOOP;
  PERFORM pg_notify('{{channel}}_external', p_node);
END
$$;
`;

/**
 * The inbox (PROTOCOL.md "Inbox"). Notifications gain their collapse key (the newest retained one
 * not gone holds it), what they replaced, `gone` (deleted or replaced) and `content` (the item's
 * content after updates, an InboxItemContent). `item_states` holds a client's state of an item of
 * its own stream or of the broadcast stream, by position, and goes with the notification
 * (retention). `inbox_clients` records when a client registered (its inbox takes broadcasts from
 * then). `events` holds inbox events (state, update, delete): they take positions in the same
 * streams as notifications (same `streams` row, `prev` chain and epoch) but are kept apart so that
 * retention by count counts notifications only.
 */
const INBOX = `
ALTER TABLE {{s}}.notifications
  ADD COLUMN collapse_key text,
  ADD COLUMN replaces text,
  ADD COLUMN gone boolean NOT NULL DEFAULT false,
  ADD COLUMN content json;
CREATE INDEX notifications_collapse ON {{s}}.notifications (stream, collapse_key) WHERE collapse_key IS NOT NULL AND NOT gone;

CREATE TABLE {{s}}.item_states (
  client_id   text NOT NULL,
  stream      text NOT NULL,
  ms          bigint NOT NULL,
  seq         integer NOT NULL,
  seen_at     bigint,
  read_at     bigint,
  archived_at bigint,
  PRIMARY KEY (client_id, stream, ms, seq),
  FOREIGN KEY (stream, ms, seq) REFERENCES {{s}}.notifications (stream, ms, seq) ON DELETE CASCADE
);
CREATE INDEX item_states_item ON {{s}}.item_states (stream, ms, seq);

CREATE TABLE {{s}}.inbox_clients (
  client_id     text PRIMARY KEY,
  registered_ms bigint NOT NULL
);

CREATE TABLE {{s}}.events (
  stream    text NOT NULL,
  ms        bigint NOT NULL,
  seq       integer NOT NULL,
  prev_ms   bigint,
  prev_seq  integer,
  id        text NOT NULL,
  device_id text,
  ts        bigint NOT NULL,
  kind      text NOT NULL CHECK (kind IN ('state', 'update', 'delete')),
  event     json NOT NULL,
  PRIMARY KEY (stream, ms, seq)
);

-- Collapse keys of a batch just appended (same transaction: append_batch holds the streams' locks).
-- In array order: the item at (stream, ms, seq) takes the key; the item holding it before (the
-- newest retained one not gone) is gone, and is what the new one replaces. Returns the replaced ids.
CREATE FUNCTION {{s}}.collapse_batch(p_streams text[], p_ms bigint[], p_seq integer[], p_keys text[])
RETURNS TABLE (r_i integer, r_replaces text)
LANGUAGE plpgsql AS $$
DECLARE
  k integer;
  v_id text;
BEGIN
  FOR k IN 1 .. coalesce(cardinality(p_streams), 0) LOOP
    UPDATE {{s}}.notifications n SET collapse_key = p_keys[k]
      WHERE n.stream = p_streams[k] AND n.ms = p_ms[k] AND n.seq = p_seq[k];
    CONTINUE WHEN NOT FOUND;
    v_id := NULL;
    UPDATE {{s}}.notifications n SET gone = true, content = NULL
      WHERE n.stream = p_streams[k] AND n.collapse_key = p_keys[k] AND NOT n.gone AND (n.ms, n.seq) < (p_ms[k], p_seq[k])
      RETURNING n.id INTO v_id;
    IF v_id IS NOT NULL THEN
      UPDATE {{s}}.notifications n SET replaces = v_id WHERE n.stream = p_streams[k] AND n.ms = p_ms[k] AND n.seq = p_seq[k];
    END IF;
    r_i := k;
    r_replaces := v_id;
    RETURN NEXT;
  END LOOP;
END
$$;
`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'init', sql: INIT },
  { version: 2, name: 'inbox', sql: INBOX },
];
