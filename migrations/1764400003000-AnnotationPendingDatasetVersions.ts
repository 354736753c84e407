import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dataset version whose manifest could not be read from storage for a transient reason is kept
 * as 'pending' with the event that announced it, so that a retry can complete it.
 */
export class AnnotationPendingDatasetVersions1764400003000 implements MigrationInterface {
  name = 'AnnotationPendingDatasetVersions1764400003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE annotation_dataset_versions ADD COLUMN published jsonb');
    await q.query('ALTER TABLE annotation_dataset_versions DROP CONSTRAINT annotation_dataset_versions_status_check');
    await q.query(
      `ALTER TABLE annotation_dataset_versions ADD CONSTRAINT annotation_dataset_versions_status_check CHECK (status IN ('ready', 'unreadable', 'pending'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE annotation_dataset_versions SET status = 'unreadable' WHERE status = 'pending'`);
    await q.query('ALTER TABLE annotation_dataset_versions DROP CONSTRAINT annotation_dataset_versions_status_check');
    await q.query(`ALTER TABLE annotation_dataset_versions ADD CONSTRAINT annotation_dataset_versions_status_check CHECK (status IN ('ready', 'unreadable'))`);
    await q.query('ALTER TABLE annotation_dataset_versions DROP COLUMN published');
  }
}
