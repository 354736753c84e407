import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiTokens1764270001000 implements MigrationInterface {
  name = 'CreateApiTokens1764270001000';

  async up(q: QueryRunner): Promise<void> {
    // Only the SHA-256 of a token is kept; the token itself is shown once, when it is created.
    await q.query(`
      CREATE TABLE trellis_api_tokens (
        token_id     uuid        PRIMARY KEY,
        token_hash   char(64)    NOT NULL UNIQUE,
        principal_id text        NOT NULL,
        label        text        NOT NULL,
        roles        text[]      NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz,
        revoked_at   timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trellis_api_tokens');
  }
}
