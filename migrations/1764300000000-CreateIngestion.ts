import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ingestion read models, the one erasable table of personal details, and the upload intents
 * that make blob writes and event appends recoverable together.
 */
export class CreateIngestion1764300000000 implements MigrationInterface {
  name = 'CreateIngestion1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // The ONLY place personal details live. Erasure deletes the row; nothing else refers to
    // these values, so the event log (pseudonymous ids and hashes only) stays intact.
    await q.query(`
      CREATE TABLE ingestion_subject_identities (
        subject_id   uuid PRIMARY KEY,
        external_ref text UNIQUE,
        name         text,
        birth_date   text,
        mrn          text,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE ingestion_subjects (
        subject_id    uuid PRIMARY KEY,
        status        text NOT NULL CHECK (status IN ('active', 'erasing', 'erased')),
        registered_at timestamptz NOT NULL,
        erased_at     timestamptz,
        erase_reason  text
      )`);
    await q.query(`
      CREATE TABLE ingestion_consents (
        consent_id    uuid PRIMARY KEY,
        subject_id    uuid NOT NULL,
        status        text NOT NULL,
        decision      text NOT NULL,
        purposes      text[] NOT NULL,
        withdrawn_purposes text[] NOT NULL DEFAULT '{}',
        period_start  timestamptz,
        period_end    timestamptz,
        source_sha256 char(64),
        fhir_version  text,
        recorded_at   timestamptz NOT NULL,
        withdrawn_at  timestamptz
      )`);
    await q.query('CREATE INDEX ingestion_consents_subject ON ingestion_consents (subject_id)');
    await q.query(`
      CREATE TABLE ingestion_assets (
        asset_id           uuid PRIMARY KEY,
        subject_id         uuid NOT NULL,
        kind               text NOT NULL,
        mime_type          text NOT NULL,
        sha256             char(64) NOT NULL,
        size               bigint NOT NULL,
        width              int,
        height             int,
        raw_key            text,
        curated_key        text,
        curated_sha256     char(64) NOT NULL,
        derivative_key     text,
        derivative_sha256  char(64),
        deidentified_key   text,
        describes_asset_id uuid,
        deidentification   jsonb NOT NULL,
        status             text NOT NULL CHECK (status IN ('ingested', 'erased')),
        ingested_at        timestamptz NOT NULL,
        erased_at          timestamptz,
        UNIQUE (subject_id, sha256)
      )`);
    await q.query(`
      CREATE TABLE ingestion_datasets (
        dataset_id     uuid PRIMARY KEY,
        name           text NOT NULL UNIQUE,
        created_at     timestamptz NOT NULL,
        latest_version int NOT NULL DEFAULT 0
      )`);
    await q.query(`
      CREATE TABLE ingestion_dataset_members (
        dataset_id uuid NOT NULL,
        asset_id   uuid NOT NULL,
        added_at   timestamptz NOT NULL,
        PRIMARY KEY (dataset_id, asset_id)
      )`);
    await q.query(`
      CREATE TABLE ingestion_dataset_versions (
        dataset_id      uuid NOT NULL,
        version         int NOT NULL,
        merkle_root     char(64) NOT NULL,
        member_count    int NOT NULL,
        manifest_key    text NOT NULL,
        manifest_sha256 char(64) NOT NULL,
        published_at    timestamptz NOT NULL,
        PRIMARY KEY (dataset_id, version)
      )`);
    // Written (and committed) before an upload's blobs, deleted in the transaction that appends
    // its event: a row older than the grace period is an upload that died in between.
    await q.query(`
      CREATE TABLE ingestion_upload_intents (
        asset_id   uuid PRIMARY KEY,
        subject_id uuid NOT NULL,
        blobs      jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'ingestion_upload_intents',
      'ingestion_dataset_versions',
      'ingestion_dataset_members',
      'ingestion_datasets',
      'ingestion_assets',
      'ingestion_consents',
      'ingestion_subjects',
      'ingestion_subject_identities',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
