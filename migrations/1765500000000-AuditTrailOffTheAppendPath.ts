import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail's three indexes (AuditTrailIndexes) were maintained by every append, under the
 * log's head lock: about a third of a batched append's time in PostgreSQL. They move to
 * lineage_audit_trail, a copy of the sort and filter columns of every event, kept by the lineage
 * service in batches after the appends commit (AuditTrailIndexer) and brought up to date before
 * every trail query, so a query still sees every event committed before it. trellis_events keeps
 * the indexes its constraints need and nothing else.
 *
 * The copy is filled here from the history, then indexed, before the old indexes go; the old
 * ones are dropped CONCURRENTLY (hence outside a transaction), so appends go on meanwhile. A
 * second run finds the rows there (ON CONFLICT DO NOTHING) and the indexes built.
 */
const TRAIL_INDEXES: [name: string, columns: string][] = [
  ['lineage_audit_trail_at', 'occurred_at, log, position'],
  ['lineage_audit_trail_actor', 'actor_id, occurred_at, log, position'],
  ['lineage_audit_trail_type', 'type, occurred_at, log, position'],
];
const OLD_INDEXES: [name: string, columns: string][] = [
  ['trellis_events_trail', 'occurred_at, log, position'],
  ['trellis_events_trail_actor', 'actor_id, occurred_at, log, position'],
  ['trellis_events_trail_type', 'type, occurred_at, log, position'],
];

export class AuditTrailOffTheAppendPath1765500000000 implements MigrationInterface {
  name = 'AuditTrailOffTheAppendPath1765500000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS lineage_audit_trail (
        log         text        NOT NULL,
        position    bigint      NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor_id    text        NOT NULL,
        type        text        NOT NULL,
        PRIMARY KEY (log, position)
      )`);
    await q.query(
      `INSERT INTO lineage_audit_trail (log, position, occurred_at, actor_id, type)
       SELECT log, position, occurred_at, actor_id, type FROM trellis_events ON CONFLICT DO NOTHING`,
    );
    for (const [name, columns] of TRAIL_INDEXES) await q.query(`CREATE INDEX IF NOT EXISTS ${name} ON lineage_audit_trail (${columns})`);
    for (const [name] of OLD_INDEXES) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name, columns] of OLD_INDEXES) await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON trellis_events (${columns})`);
    await q.query('DROP TABLE IF EXISTS lineage_audit_trail');
  }
}
