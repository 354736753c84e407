import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What modelProvenance needs of a training snapshot's items, computed once per snapshot: how many
 * curated assets, which subjects (pseudonymous ids), the de-identification by method, the log
 * positions of the events that recorded the items, and the annotation sets it was derived from
 * with their annotation activities and dataset versions (each set fans out to its items too). A snapshot's items were ingested before it was
 * frozen and never change, so these facts hold for every moment the snapshot exists; walking up
 * to hundreds of thousands of items on every request took about a second (npm run bench:lineage).
 * A cache of the graph, not part of it: filled at the first read that finds every item in the
 * graph, emptied by a rebuild.
 */
export class LineageSnapshotFacts1765000000200 implements MigrationInterface {
  name = 'LineageSnapshotFacts1765000000200';

  async up(q: QueryRunner): Promise<void> {
    // A cache of the graph: whatever an earlier build left is dropped, not migrated.
    await q.query('DROP TABLE IF EXISTS lineage_snapshot_facts');
    await q.query(`
      CREATE TABLE lineage_snapshot_facts (
        snapshot_id       text        PRIMARY KEY,
        assets            integer     NOT NULL,
        subject_ids       text[]      NOT NULL,
        annotation_sets   text[]      NOT NULL,
        annotations       text[]      NOT NULL,
        dataset_versions  text[]      NOT NULL,
        deidentification  jsonb       NOT NULL,
        rests_on          jsonb       NOT NULL,
        computed_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS lineage_snapshot_facts');
  }
}
