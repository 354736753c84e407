import { MigrationInterface, QueryRunner } from 'typeorm';
import { AppendRowsAsJson1765100000000 } from './1765100000000-AppendRowsAsJson';
import { CreateAppendFunction1764270002000 } from './1764270002000-CreateAppendFunction';

/**
 * trellis_append_rows reads each stream's version through its own index probe (bench:event-store,
 * issue 16). The lookup it replaces, one grouped query over `log = $1 AND stream_id = ANY($2)`,
 * was planned once per connection and then cached by PL/pgSQL: planned while the table was
 * still small, it scanned the whole log through the primary key and filtered the streams out,
 * so every append read every event of its log (auto_explain: "Rows Removed by Filter: 99500"
 * for 5 streams, 35 ms of an append of 500 events, growing with the log).
 *
 * Now each stream asks for its newest event, `ORDER BY stream_version DESC LIMIT 1` on
 * (log, stream_id): only trellis_events_stream_version_uq (log, stream_id, stream_version)
 * answers that in order, so the plan is one short backward index scan per stream whatever the
 * statistics were when it was cached. Everything else (lock, checks, rows, head, NOTIFY) is as
 * in AppendRowsAsJson.
 */
export class AppendRowsStreamLookupByIndex1765300000000 implements MigrationInterface {
  name = 'AppendRowsStreamLookupByIndex1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION trellis_append_rows(
        p_log text, p_head_position bigint, p_head_hash text, p_streams text[], p_stream_versions int[], p_rows json
      ) RETURNS TABLE (ok boolean, head_position bigint, head_hash text, streams text[], versions int[])
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        v_pos bigint;
        v_hash text;
        v_n int;
        v_last_position bigint;
        v_last_hash text;
      BEGIN
        -- A transaction-scoped advisory lock per log serializes appends without writing a row
        -- lock to disk; it is released only after the commit is visible.
        PERFORM pg_advisory_xact_lock(hashtextextended('trellis_log:' || p_log, 0));
        SELECT h.position, h.hash INTO v_pos, v_hash FROM trellis_log_heads h WHERE h.log = p_log;
        IF NOT FOUND THEN
          INSERT INTO trellis_log_heads (log, position, hash) VALUES (p_log, 0, repeat('0', 64));
          v_pos := 0;
          v_hash := repeat('0', 64);
        END IF;

        SELECT array_agg(g.stream ORDER BY g.i), array_agg(coalesce(a.v, 0) ORDER BY g.i), v_pos = p_head_position AND v_hash = p_head_hash AND coalesce(bool_and(coalesce(a.v, 0) = g.guess), true)
          INTO streams, versions, ok
          FROM unnest(p_streams, p_stream_versions) WITH ORDINALITY AS g(stream, guess, i)
          LEFT JOIN LATERAL (SELECT t.stream_version AS v FROM trellis_events t
                              WHERE t.log = p_log AND t.stream_id = g.stream ORDER BY t.stream_version DESC LIMIT 1) a ON true;
        ok := coalesce(ok, v_pos = p_head_position AND v_hash = p_head_hash);
        head_position := v_pos;
        head_hash := v_hash;

        IF ok THEN
          WITH written AS (
            INSERT INTO trellis_events (log, position, event_id, stream_id, stream_version, type, schema_version, occurred_at,
                                        actor_id, actor_role, correlation_id, causation_id, data, prev_hash, hash)
            SELECT p_log, v_pos + r.n, r.i, r.s, r.v, r.t, r.sv, r.o, r.a, r.ar, r.c, r.ca, r.d -> 0, coalesce(lag(r.h) OVER (ORDER BY r.n), v_hash), r.h
              FROM ROWS FROM (json_to_recordset(p_rows) AS (i uuid, s text, v int, t text, sv int, o timestamptz, a text, ar text, c uuid, ca uuid, d jsonb, h text))
                   WITH ORDINALITY AS r(i, s, v, t, sv, o, a, ar, c, ca, d, h, n)
            RETURNING position, hash
          )
          SELECT count(*), max(w.position), (array_agg(w.hash ORDER BY w.position DESC))[1] INTO v_n, v_last_position, v_last_hash FROM written w;
          IF v_n > 0 THEN
            head_position := v_last_position;
            head_hash := v_last_hash;
            UPDATE trellis_log_heads SET position = head_position, hash = head_hash WHERE log = p_log;
            PERFORM pg_notify('trellis_events', p_log);
          END IF;
        END IF;
        RETURN NEXT;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // AppendRowsAsJson's up creates the function afresh and drops trellis_append, which must exist.
    await q.query('DROP FUNCTION trellis_append_rows(text, bigint, text, text[], int[], json)');
    await new CreateAppendFunction1764270002000().up(q);
    await new AppendRowsAsJson1765100000000().up(q);
  }
}
