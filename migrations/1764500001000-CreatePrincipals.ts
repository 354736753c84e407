import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What is personal about a principal (its display name), outside the event log: erasing a
 * principal deletes its row, and the hash chain, which holds only the pseudonymous id, stays intact.
 */
export class CreatePrincipals1764500001000 implements MigrationInterface {
  name = 'CreatePrincipals1764500001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trellis_principals (
        principal_id text        PRIMARY KEY,
        display_name text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trellis_principals');
  }
}
