import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (GraphQL auditTrail) reads trellis_events across logs, newest first by
 * (occurred_at, log, position), filtered by stream, actor or type, a keyset page at a time. The
 * table's own indexes all lead with the log. The actor and type filters get an index that leads
 * with them and ends in the sort key, the unfiltered trail one on the sort key alone, so that each
 * page is a bounded index range scan however long the history. The stream filter needs none: a
 * stream holds few events, found through (log, stream_id, stream_version) once per log. Each
 * index is paid for on every append (bulk inserts took about 1.6x as long with these three), so
 * there are no more than the filters need.
 *
 * Built CONCURRENTLY (hence outside a transaction), so appends go on while a large log is indexed.
 * A build that was interrupted leaves an invalid index behind; it is dropped and built again.
 */
const INDEXES: [name: string, columns: string][] = [
  ['trellis_events_trail', 'occurred_at, log, position'],
  ['trellis_events_trail_actor', 'actor_id, occurred_at, log, position'],
  ['trellis_events_trail_type', 'type, occurred_at, log, position'],
];

export class AuditTrailIndexes1764900000100 implements MigrationInterface {
  name = 'AuditTrailIndexes1764900000100';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const [name, columns] of INDEXES) {
      const [state]: { valid: boolean }[] = await q.query(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND pg_table_is_visible(c.oid)`,
        [name],
      );
      if (state?.valid) continue;
      if (state) await q.query(`DROP INDEX CONCURRENTLY ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY ${name} ON trellis_events (${columns})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of [...INDEXES].reverse()) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }
}
