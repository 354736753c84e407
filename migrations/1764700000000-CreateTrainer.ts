import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the trainer service, all rebuilt from events: the consent state of every
 * subject (folded from the ingestion log, so a snapshot can be frozen without asking ingestion),
 * the published annotation sets it may train on, the registered base models, and the runs, which
 * double as the work queue (a lease per run, so several trainer processes share it without
 * running one run twice). No personal data: subjects and people appear as pseudonymous ids.
 */
export class CreateTrainer1764700000000 implements MigrationInterface {
  name = 'CreateTrainer1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trainer_subject_consents (
        subject_id  uuid        PRIMARY KEY,
        state       jsonb       NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE trainer_annotation_sets (
        set_id          uuid        PRIMARY KEY,
        project_id      uuid        NOT NULL,
        version         integer     NOT NULL,
        content_sha256  char(64)    NOT NULL,
        artifact_key    text        NOT NULL,
        artifact_sha256 char(64)    NOT NULL,
        item_count      integer     NOT NULL,
        published_at    timestamptz NOT NULL,
        UNIQUE (project_id, version)
      )`);
    // The items of each set, read from its artifact once when the set arrives, so that freezing a
    // snapshot is one indexed query joined with the consent state.
    await q.query(`
      CREATE TABLE trainer_set_items (
        set_id       uuid     NOT NULL REFERENCES trainer_annotation_sets (set_id),
        item_id      uuid     NOT NULL,
        subject_id   uuid     NOT NULL,
        image_key    text     NOT NULL,
        image_sha256 char(64) NOT NULL,
        text_sha256  char(64) NOT NULL,
        -- The item's RFC 6962 leaf hash in a training snapshot, taken once when the set arrives.
        leaf_sha256  bytea    NOT NULL,
        answer       jsonb    NOT NULL,
        PRIMARY KEY (set_id, item_id)
      )`);
    await q.query('CREATE INDEX trainer_set_items_subject ON trainer_set_items (subject_id)');
    await q.query(`
      CREATE TABLE trainer_base_models (
        base_model_id   uuid        PRIMARY KEY,
        preset          text,
        manifest_sha256 char(64)    NOT NULL,
        files           jsonb       NOT NULL,
        architecture    jsonb       NOT NULL,
        pretraining     jsonb,
        registered_by   text        NOT NULL,
        registered_at   timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE trainer_runs (
        run_id           uuid        PRIMARY KEY,
        status           text        NOT NULL CHECK (status IN ('requested', 'frozen', 'running', 'completed', 'failed', 'cancelled')),
        method           text        NOT NULL,
        request          jsonb       NOT NULL,
        requested_by     text        NOT NULL,
        requested_at     timestamptz NOT NULL,
        snapshot         jsonb,
        total_steps      integer,
        step             integer     NOT NULL DEFAULT 0,
        last_progress    jsonb,
        checkpoint       jsonb,
        attempts         integer     NOT NULL DEFAULT 0,
        backend          text,
        cancel_requested boolean     NOT NULL DEFAULT false,
        outcome          jsonb,
        lease_owner      text,
        lease_expires_at timestamptz,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
    // The queue: runs not finished, oldest first, for the claim's SKIP LOCKED scan.
    await q.query(`CREATE INDEX trainer_runs_queue ON trainer_runs (requested_at) WHERE status IN ('requested', 'frozen', 'running')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trainer_runs');
    await q.query('DROP TABLE trainer_base_models');
    await q.query('DROP TABLE trainer_set_items');
    await q.query('DROP TABLE trainer_annotation_sets');
    await q.query('DROP TABLE trainer_subject_consents');
  }
}
