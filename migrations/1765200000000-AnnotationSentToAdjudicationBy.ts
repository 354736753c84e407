import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who sent an item to adjudication (ItemSentToAdjudication v2's requestedBy): a reviewer, or null
 * when its accepted answers missed the agreement threshold. The adjudication queue shows an item
 * a reviewer sent with its submitted answers too (they were not all reviewed).
 */
export class AnnotationSentToAdjudicationBy1765200000000 implements MigrationInterface {
  name = 'AnnotationSentToAdjudicationBy1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE annotation_tasks ADD COLUMN sent_to_adjudication_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE annotation_tasks DROP COLUMN sent_to_adjudication_by');
  }
}
