import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Projects can be archived (AnnotationProjectArchived) and may let a rejected item go back to the
 * annotator it was rejected from (AnnotationProjectCreated v2), so one annotator can now hold
 * several assignments of one task: the (task, annotator) uniqueness goes.
 */
export class AnnotationArchiveAndReannotation1764500000000 implements MigrationInterface {
  name = 'AnnotationArchiveAndReannotation1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE annotation_projects ADD COLUMN archived_at timestamptz');
    await q.query('ALTER TABLE annotation_projects ADD COLUMN reassign_rejected_to_same_annotator boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE annotation_assignments DROP CONSTRAINT annotation_assignments_task_id_annotator_id_key');
    await q.query('CREATE INDEX annotation_assignments_task_annotator ON annotation_assignments (task_id, annotator_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX annotation_assignments_task_annotator');
    // Keep each annotator's latest assignment of a task so that the uniqueness can return.
    await q.query(`DELETE FROM annotation_assignments a USING annotation_assignments b
      WHERE a.task_id = b.task_id AND a.annotator_id = b.annotator_id AND a.assigned_at < b.assigned_at`);
    await q.query('ALTER TABLE annotation_assignments ADD CONSTRAINT annotation_assignments_task_id_annotator_id_key UNIQUE (task_id, annotator_id)');
    await q.query('ALTER TABLE annotation_projects DROP COLUMN reassign_rejected_to_same_annotator');
    await q.query('ALTER TABLE annotation_projects DROP COLUMN archived_at');
  }
}
