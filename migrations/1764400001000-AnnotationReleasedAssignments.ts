import { MigrationInterface, QueryRunner } from 'typeorm';

/** Assignments can be released by their annotator or expired by a steward (TaskReleased). */
export class AnnotationReleasedAssignments1764400001000 implements MigrationInterface {
  name = 'AnnotationReleasedAssignments1764400001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE annotation_assignments DROP CONSTRAINT annotation_assignments_status_check');
    await q.query(`ALTER TABLE annotation_assignments ADD CONSTRAINT annotation_assignments_status_check
      CHECK (status IN ('assigned', 'submitted', 'accepted', 'rejected', 'released'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM annotation_assignments WHERE status = 'released'`);
    await q.query('ALTER TABLE annotation_assignments DROP CONSTRAINT annotation_assignments_status_check');
    await q.query(`ALTER TABLE annotation_assignments ADD CONSTRAINT annotation_assignments_status_check
      CHECK (status IN ('assigned', 'submitted', 'accepted', 'rejected'))`);
  }
}
