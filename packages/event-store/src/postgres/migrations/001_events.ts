import { sql, type Kysely } from 'kysely';

/**
 * Streams, events and the batched append function.
 *
 * `$all` order is (transaction_id, seq): readers only see rows whose transaction id is below
 * pg_snapshot_xmin(pg_current_snapshot()), i.e. every transaction that could still add a row
 * before them has finished. A bare sequence is not gap-free under concurrent writers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE es_streams (
      stream_id     text PRIMARY KEY,
      revision      bigint NOT NULL DEFAULT -1,
      meta          jsonb NOT NULL DEFAULT '{}'::jsonb,
      meta_revision bigint NOT NULL DEFAULT -1,
      deleted       boolean NOT NULL DEFAULT false
    )`.execute(db);
  await sql`
    CREATE TABLE es_events (
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      seq            bigint GENERATED ALWAYS AS IDENTITY,
      event_id       uuid NOT NULL,
      stream_id      text NOT NULL,
      revision       bigint NOT NULL,
      type           text NOT NULL,
      schema_version integer NOT NULL,
      data           jsonb NOT NULL,
      metadata       jsonb NOT NULL,
      content_digest text NOT NULL,
      recorded_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (transaction_id, seq),
      CONSTRAINT es_events_stream_revision UNIQUE (stream_id, revision),
      CONSTRAINT es_events_event_id UNIQUE (event_id)
    )`.execute(db);

  // One round trip per batch of appends (group commit): lock every stream touched in a global
  // order, decide each append against the running revision, insert the accepted events in
  // submission order, bump the stream revisions. Appends are independent: one that fails its
  // expected-revision check does not affect the others in the batch.
  // p_appends: [{s: stream, e: expected (>=0 exact, -1 no-stream, -2 any, -3 stream-exists), n: event count, o: first event ordinal (1-based)}]
  // p_events:  [{i: event id, t: type, v: schema version, d: data, m: metadata, h: content digest}]
  // p_check_duplicates: probe the event-id index for re-sent ids. Re-sent ids are rare (client
  // retries), so callers first write without the probe; a re-used id then fails the unique
  // constraint and the batch goes again with it on, sorting each append into duplicate / conflict / new.
  await sql`
    CREATE FUNCTION es_append(p_appends jsonb, p_events jsonb, p_check_duplicates boolean)
    RETURNS TABLE (idx integer, status text, actual bigint, last_revision bigint, tx text, seq bigint)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_streams   text[];
      st_ids      text[];
      st_revs     bigint[];
      st_del      boolean[];
      n_streams   integer;
      k           integer := 0;
      a           record;
      cur_rev     bigint;
      v_tx        text := pg_current_xact_id()::text;
      any_dups    boolean;
      d_found     bigint;
      d_same      bigint;
      d_bases     bigint;
      d_last      bigint;
      d_tx        text;
      d_seq       bigint;
      v_status    text;
      res_idx     integer[] := '{}';
      res_status  text[] := '{}';
      res_actual  bigint[] := '{}';
      res_last    bigint[] := '{}';
      res_stream  text[] := '{}';
      res_tx      text[] := '{}';
      res_seq     bigint[] := '{}';
      acc_first   integer[] := '{}';
      acc_count   integer[] := '{}';
      acc_stream  text[] := '{}';
      acc_rev     bigint[] := '{}';
      upd_ids     text[] := '{}';
      upd_revs    bigint[] := '{}';
    BEGIN
      SELECT array_agg(DISTINCT x.s ORDER BY x.s) INTO v_streams FROM jsonb_to_recordset(p_appends) AS x(s text);
      INSERT INTO es_streams (stream_id) SELECT unnest(v_streams) ORDER BY 1 ON CONFLICT DO NOTHING;
      SELECT array_agg(q.stream_id ORDER BY q.stream_id), array_agg(q.revision ORDER BY q.stream_id), array_agg(q.deleted ORDER BY q.stream_id)
        INTO st_ids, st_revs, st_del
        FROM (SELECT s.stream_id, s.revision, s.deleted FROM es_streams s WHERE s.stream_id = ANY (v_streams) ORDER BY s.stream_id FOR UPDATE) q;
      n_streams := coalesce(array_length(st_ids, 1), 0);

      IF p_check_duplicates THEN
        SELECT EXISTS (SELECT 1 FROM es_events e WHERE e.event_id IN (SELECT (x->>'i')::uuid FROM jsonb_array_elements(p_events) x))
          INTO any_dups;
      ELSE
        any_dups := false;
      END IF;

      FOR a IN SELECT t.s, t.e, t.n, t.o, (t.ord - 1)::integer AS i
                 FROM ROWS FROM (jsonb_to_recordset(p_appends) AS (s text, e bigint, n integer, o integer)) WITH ORDINALITY AS t(s, e, n, o, ord)
                 ORDER BY t.s, t.ord
      LOOP
        IF k = 0 OR st_ids[k] IS DISTINCT FROM a.s THEN
          IF k > 0 AND cur_rev <> st_revs[k] THEN
            upd_ids := upd_ids || st_ids[k]; upd_revs := upd_revs || cur_rev;
          END IF;
          k := k + 1;
          WHILE k <= n_streams AND st_ids[k] IS DISTINCT FROM a.s LOOP k := k + 1; END LOOP;
          IF k > n_streams THEN RAISE EXCEPTION 'es_append: stream row missing'; END IF;
          cur_rev := st_revs[k];
        END IF;
        v_status := NULL;
        IF any_dups THEN
          SELECT count(e.event_id),
                 count(e.event_id) FILTER (WHERE e.stream_id = a.s AND e.content_digest = x.value->>'h'),
                 count(DISTINCT e.revision - (x.ord - a.o)),
                 max(e.revision)
            INTO d_found, d_same, d_bases, d_last
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(value, ord)
            JOIN es_events e ON e.event_id = (x.value->>'i')::uuid
           WHERE x.ord >= a.o AND x.ord < a.o + a.n;
          IF d_found > 0 THEN
            IF d_found = a.n AND d_same = a.n AND d_bases = 1 THEN
              v_status := 'duplicate';
              SELECT e.transaction_id::text, e.seq INTO d_tx, d_seq FROM es_events e WHERE e.stream_id = a.s AND e.revision = d_last;
            ELSE
              v_status := 'conflict';
            END IF;
          END IF;
        END IF;
        IF v_status IS NULL THEN
          IF st_del[k] THEN
            v_status := 'deleted';
          ELSIF (a.e = -1 AND cur_rev <> -1) OR (a.e = -3 AND cur_rev = -1) OR (a.e >= 0 AND cur_rev <> a.e) THEN
            v_status := 'wrong_revision';
          ELSE
            v_status := 'ok';
            acc_first := acc_first || a.o; acc_count := acc_count || a.n; acc_stream := acc_stream || a.s; acc_rev := acc_rev || (cur_rev + 1);
            cur_rev := cur_rev + a.n;
          END IF;
        END IF;
        res_idx := res_idx || a.i;
        res_status := res_status || v_status;
        res_stream := res_stream || a.s;
        IF v_status = 'ok' THEN
          res_actual := res_actual || (cur_rev - a.n); res_last := res_last || cur_rev; res_tx := res_tx || v_tx; res_seq := res_seq || NULL::bigint;
        ELSIF v_status = 'duplicate' THEN
          res_actual := res_actual || cur_rev; res_last := res_last || d_last; res_tx := res_tx || d_tx; res_seq := res_seq || d_seq;
        ELSE
          res_actual := res_actual || cur_rev; res_last := res_last || NULL::bigint; res_tx := res_tx || NULL::text; res_seq := res_seq || NULL::bigint;
        END IF;
      END LOOP;
      IF k > 0 AND cur_rev <> st_revs[k] THEN
        upd_ids := upd_ids || st_ids[k]; upd_revs := upd_revs || cur_rev;
      END IF;

      IF coalesce(array_length(acc_first, 1), 0) > 0 THEN
        WITH rows AS (
          SELECT ev.value, acc.s, acc.r + (g.ord - acc.f) AS r, g.ord
            FROM unnest(acc_first, acc_count, acc_stream, acc_rev) AS acc(f, n, s, r)
            CROSS JOIN LATERAL generate_series(acc.f, acc.f + acc.n - 1) AS g(ord)
            JOIN jsonb_array_elements(p_events) WITH ORDINALITY AS ev(value, ord) ON ev.ord = g.ord
        ), ins AS (
          INSERT INTO es_events (event_id, stream_id, revision, type, schema_version, data, metadata, content_digest)
          SELECT (r.value->>'i')::uuid, r.s, r.r, r.value->>'t', (r.value->>'v')::integer, r.value->'d', r.value->'m', r.value->>'h'
            FROM rows r ORDER BY r.ord
          RETURNING es_events.stream_id AS s, es_events.revision AS r, es_events.seq AS q
        )
        SELECT array_agg(coalesce(ins.q, u.sq) ORDER BY u.ord) INTO res_seq
          FROM unnest(res_stream, res_last, res_seq) WITH ORDINALITY AS u(s, l, sq, ord)
          LEFT JOIN ins ON ins.s = u.s AND ins.r = u.l;
        UPDATE es_streams s SET revision = u.r FROM unnest(upd_ids, upd_revs) AS u(id, r) WHERE s.stream_id = u.id;
      END IF;

      RETURN QUERY SELECT u.i, u.st, u.ac, u.l, u.t, u.sq
        FROM unnest(res_idx, res_status, res_actual, res_last, res_tx, res_seq) AS u(i, st, ac, l, t, sq);
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS es_append(jsonb, jsonb, boolean)`.execute(db);
  await sql`DROP TABLE IF EXISTS es_events`.execute(db);
  await sql`DROP TABLE IF EXISTS es_streams`.execute(db);
}
