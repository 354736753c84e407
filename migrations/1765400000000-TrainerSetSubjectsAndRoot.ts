import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a freeze would otherwise work out from every item of a set, kept once when the set arrives
 * (a set never changes): its subjects (trainer_set_subjects: a freeze reads a row per subject, not
 * a DISTINCT over every item), and the RFC 6962 root over all its items in item order
 * (trainer_annotation_sets.items_merkle_root, hex), which is a snapshot's root whenever the
 * snapshot keeps every item of one set. Sets kept before get their subjects here; their root
 * stays null, and their freezes take it from the leaves as before.
 */
export class TrainerSetSubjectsAndRoot1765400000000 implements MigrationInterface {
  name = 'TrainerSetSubjectsAndRoot1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trainer_set_subjects (
        set_id     uuid NOT NULL REFERENCES trainer_annotation_sets (set_id),
        subject_id uuid NOT NULL,
        PRIMARY KEY (set_id, subject_id)
      )`);
    await q.query('INSERT INTO trainer_set_subjects (set_id, subject_id) SELECT DISTINCT set_id, subject_id FROM trainer_set_items');
    await q.query('ALTER TABLE trainer_annotation_sets ADD COLUMN items_merkle_root char(64)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE trainer_annotation_sets DROP COLUMN items_merkle_root');
    await q.query('DROP TABLE trainer_set_subjects');
  }
}
