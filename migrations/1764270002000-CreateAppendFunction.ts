import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * trellis_append: an append in one statement, hence one round trip and, outside a caller's
 * transaction, one autocommit.
 *
 * The application prepares the rows (positions, stream versions, hash chain) from what it
 * believes the log head and the streams' versions to be. This function locks the log head,
 * which serializes appends to the log (so positions become visible strictly in order), and
 * checks those beliefs against the locked state, reading a fresh snapshot per statement. If
 * they hold it inserts the rows set-wise, moves the head and notifies subscribers at commit;
 * otherwise it inserts nothing and answers the real head and versions, and the application
 * prepares again.
 */
export class CreateAppendFunction1764270002000 implements MigrationInterface {
  name = 'CreateAppendFunction1764270002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION trellis_append(
        p_log text, p_head_position bigint, p_head_hash text, p_streams text[], p_stream_versions int[],
        p_position bigint[], p_event_id uuid[], p_stream_id text[], p_stream_version int[], p_type text[],
        p_schema_version int[], p_occurred_at timestamptz[], p_actor_id text[], p_actor_role text[],
        p_correlation_id uuid[], p_causation_id uuid[], p_data jsonb[], p_prev_hash text[], p_hash text[]
      ) RETURNS TABLE (ok boolean, head_position bigint, head_hash text, streams text[], versions int[])
      LANGUAGE plpgsql AS $fn$
      #variable_conflict use_column
      DECLARE
        v_pos bigint;
        v_hash text;
        v_n int := coalesce(array_length(p_position, 1), 0);
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

        IF ok AND v_n > 0 THEN
          IF p_position[1] <> v_pos + 1 OR p_position[v_n] <> v_pos + v_n OR p_prev_hash[1] <> v_hash THEN
            RAISE EXCEPTION 'trellis_append: rows do not continue the log head';
          END IF;
          INSERT INTO trellis_events (log, position, event_id, stream_id, stream_version, type, schema_version, occurred_at,
                                      actor_id, actor_role, correlation_id, causation_id, data, prev_hash, hash)
          SELECT p_log, * FROM unnest(p_position, p_event_id, p_stream_id, p_stream_version, p_type, p_schema_version, p_occurred_at,
                                      p_actor_id, p_actor_role, p_correlation_id, p_causation_id, p_data, p_prev_hash, p_hash);
          head_position := p_position[v_n];
          head_hash := p_hash[v_n];
          UPDATE trellis_log_heads SET position = head_position, hash = head_hash WHERE log = p_log;
          PERFORM pg_notify('trellis_events', p_log);
        END IF;
        RETURN NEXT;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION trellis_append(text, bigint, text, text[], int[], bigint[], uuid[], text[], int[], text[], int[], timestamptz[], text[], text[], uuid[], uuid[], jsonb[], text[], text[])',
    );
  }
}
