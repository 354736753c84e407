import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who has been shown an item's answers (AnswersViewed), so "pull next" never offers it to them. */
export class AnnotationAnswerViews1764400002000 implements MigrationInterface {
  name = 'AnnotationAnswerViews1764400002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE annotation_answer_views (
      task_id uuid NOT NULL,
      viewer_id text NOT NULL,
      PRIMARY KEY (task_id, viewer_id))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE annotation_answer_views');
  }
}
