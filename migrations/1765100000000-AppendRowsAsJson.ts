import { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateAppendFunction1764270002000 } from './1764270002000-CreateAppendFunction';

/**
 * trellis_append_rows replaces trellis_append (bench:event-store, issue 16): the same lock, the
 * same checks against the locked head and stream versions, the same rows, head move and NOTIFY,
 * with less to carry and parse per row.
 *
 * - The rows arrive as one JSON array of objects instead of fourteen parallel arrays: the
 *   application writes it by joining text it prepared before the lock (JSON.stringify is native;
 *   node-postgres escapes every element of every array in JavaScript), and PostgreSQL parses
 *   one document instead of fourteen array literals.
 * - Position and previous hash are not sent: under the lock they are the head's position plus
 *   the row's ordinal and the preceding row's hash (the head's for the first row), so a row
 *   cannot continue anything but the locked head.
 * - The values of one append (occurred-at, actor, correlation and causation ids, stream) are
 *   still sent per row: an object per row keeps the statement one set-wise INSERT.
 * - The event's data comes wrapped in a one-element array: json_to_recordset turns a JSON null
 *   into SQL NULL and reads a top-level string as its unescaped text, while an array is taken
 *   as it is written; `-> 0` then gives the data exactly as jsonb parses it.
 */
export class AppendRowsAsJson1765100000000 implements MigrationInterface {
  name = 'AppendRowsAsJson1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION trellis_append_rows(
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
          LEFT JOIN (SELECT t.stream_id, max(t.stream_version) AS v FROM trellis_events t
                      WHERE t.log = p_log AND t.stream_id = ANY (p_streams) GROUP BY t.stream_id) a ON a.stream_id = g.stream;
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
    // One way in: the old entry point would be a second copy of these checks to keep in step.
    await new CreateAppendFunction1764270002000().down(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await new CreateAppendFunction1764270002000().up(q);
    await q.query('DROP FUNCTION trellis_append_rows(text, bigint, text, text[], int[], json)');
  }
}
