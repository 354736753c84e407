import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Crypto-shredding of personal details: each subject's identity is sealed (AES-256-GCM) with a
 * data key of its own, kept wrapped in ingestion_subject_keys; erasure destroys the key, so any
 * copy of the sealed row (a dead tuple, WAL, a backup) is unreadable. The external reference is
 * found by a keyed hash instead of its text. Plain columns stay, NULL, for rows written before:
 * the service seals those at start-up (SubjectIdentityRepository.sealLegacyRows).
 */
export class SealSubjectIdentities1764600000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE ingestion_subject_keys (
        subject_id  uuid PRIMARY KEY,
        wrapped_key bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE ingestion_subject_identities ADD COLUMN sealed bytea, ADD COLUMN external_ref_index text UNIQUE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ingestion_subject_identities DROP COLUMN sealed, DROP COLUMN external_ref_index`);
    await q.query(`DROP TABLE ingestion_subject_keys`);
  }
}
