import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the registry service, all rebuilt from events. Its own: registered models,
 * versions, aliases and their history, promotions, evaluations (which double as the evaluation
 * queue, a lease per evaluation), model-card revisions and consent flags. Heard from the other
 * contexts: training runs and base models (trainer), annotation sets and their items
 * (annotation), the de-identification applied to each stored image (ingestion), and which
 * subjects each version's snapshot holds (read from the snapshot manifest once). No personal
 * data: subjects and people appear as pseudonymous ids.
 */
export class CreateRegistry1764800000000 implements MigrationInterface {
  name = 'CreateRegistry1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE registry_base_models (
        base_model_id   uuid     PRIMARY KEY,
        preset          text,
        manifest_sha256 char(64) NOT NULL,
        files           jsonb    NOT NULL,
        architecture    jsonb    NOT NULL
      )`);
    await q.query(`
      CREATE TABLE registry_runs (
        run_id       uuid        PRIMARY KEY,
        requested_by text        NOT NULL,
        request      jsonb       NOT NULL,
        snapshot     jsonb,
        completed    jsonb,
        requested_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE registry_annotation_sets (
        set_id          uuid        PRIMARY KEY,
        project_id      uuid        NOT NULL,
        version         integer     NOT NULL,
        dataset_id      uuid        NOT NULL,
        dataset_version integer     NOT NULL,
        content_sha256  char(64)    NOT NULL,
        artifact_key    text        NOT NULL,
        item_count      integer     NOT NULL,
        agreement       jsonb,
        published_at    timestamptz NOT NULL,
        UNIQUE (project_id, version)
      )`);
    await q.query(`
      CREATE TABLE registry_set_items (
        set_id       uuid     NOT NULL REFERENCES registry_annotation_sets (set_id),
        item_id      uuid     NOT NULL,
        subject_id   uuid     NOT NULL,
        image_key    text     NOT NULL,
        image_sha256 char(64) NOT NULL,
        text_sha256  char(64) NOT NULL,
        answer       jsonb    NOT NULL,
        PRIMARY KEY (set_id, item_id)
      )`);
    await q.query(`
      CREATE TABLE registry_image_deidentification (
        image_sha256 char(64) PRIMARY KEY,
        method       text     NOT NULL,
        options      jsonb    NOT NULL
      )`);
    await q.query(`
      CREATE TABLE registry_models (
        model_id    uuid        PRIMARY KEY,
        name        text        NOT NULL UNIQUE,
        description text,
        tags        jsonb       NOT NULL DEFAULT '{}',
        created_by  text        NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE registry_versions (
        model_version_id  uuid        PRIMARY KEY,
        model_id          uuid        NOT NULL REFERENCES registry_models (model_id),
        version           integer     NOT NULL,
        run_id            uuid        UNIQUE,
        data              jsonb       NOT NULL,
        description       text,
        tags              jsonb       NOT NULL DEFAULT '{}',
        archived_at       timestamptz,
        archive_reason    text,
        flagged_subjects  integer     NOT NULL DEFAULT 0,
        flagged_items     integer     NOT NULL DEFAULT 0,
        retrain_requested_at timestamptz,
        registered_by     text        NOT NULL,
        registered_at     timestamptz NOT NULL,
        UNIQUE (model_id, version)
      )`);
    // Which subjects and items each version's snapshot holds: the consent flag and the
    // evaluation-overlap check are one indexed query each. Read from the manifest (not from the
    // registry log), so a rebuild of the read model keeps these rows: no foreign key to versions.
    await q.query(`
      CREATE TABLE registry_snapshot_items (
        model_version_id uuid     NOT NULL,
        item_id          uuid     NOT NULL,
        subject_id       uuid     NOT NULL,
        image_sha256     char(64) NOT NULL,
        text_sha256      char(64) NOT NULL,
        PRIMARY KEY (model_version_id, item_id)
      )`);
    await q.query('CREATE INDEX registry_snapshot_items_subject ON registry_snapshot_items (subject_id)');
    await q.query(`
      CREATE TABLE registry_flags (
        model_version_id uuid        NOT NULL REFERENCES registry_versions (model_version_id),
        subject_id       uuid        NOT NULL,
        trigger          text        NOT NULL,
        flagged_at       timestamptz NOT NULL,
        PRIMARY KEY (model_version_id, subject_id)
      )`);
    await q.query(`
      CREATE TABLE registry_aliases (
        model_id         uuid        NOT NULL REFERENCES registry_models (model_id),
        alias            text        NOT NULL,
        model_version_id uuid        NOT NULL REFERENCES registry_versions (model_version_id),
        moved_at         timestamptz NOT NULL,
        PRIMARY KEY (model_id, alias)
      )`);
    await q.query(`
      CREATE TABLE registry_alias_history (
        position            bigint      NOT NULL PRIMARY KEY,
        model_id            uuid        NOT NULL,
        alias               text        NOT NULL,
        model_version_id    uuid,
        previous_version_id uuid,
        kind                text        NOT NULL,
        promotion_id        uuid,
        actor_id            text        NOT NULL,
        reason              text        NOT NULL,
        moved_at            timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX registry_alias_history_at ON registry_alias_history (model_id, alias, moved_at)');
    await q.query(`
      CREATE TABLE registry_promotions (
        promotion_id          uuid        PRIMARY KEY,
        model_id              uuid        NOT NULL REFERENCES registry_models (model_id),
        alias                 text        NOT NULL,
        model_version_id      uuid        NOT NULL,
        current_version_id    uuid,
        evaluation_set_sha256 char(64),
        tolerance             double precision NOT NULL,
        requested_by          text        NOT NULL,
        reason                text        NOT NULL,
        status                text        NOT NULL,
        verdicts              jsonb,
        decided_by            text,
        comment               text,
        requested_at          timestamptz NOT NULL,
        decided_at            timestamptz
      )`);
    await q.query(`
      CREATE TABLE registry_model_cards (
        model_version_id uuid        NOT NULL REFERENCES registry_versions (model_version_id),
        revision         integer     NOT NULL,
        fields           jsonb       NOT NULL,
        edited_by        text        NOT NULL,
        edited_at        timestamptz NOT NULL,
        PRIMARY KEY (model_version_id, revision)
      )`);
    await q.query(`
      CREATE TABLE registry_evaluations (
        evaluation_id    uuid        PRIMARY KEY,
        model_id         uuid        NOT NULL,
        model_version_id uuid        NOT NULL REFERENCES registry_versions (model_version_id),
        set_id           uuid        NOT NULL,
        set_sha256       char(64)    NOT NULL,
        request          jsonb       NOT NULL,
        status           text        NOT NULL,
        attempts         integer     NOT NULL DEFAULT 0,
        result           jsonb,
        failure          jsonb,
        requested_by     text        NOT NULL,
        requested_at     timestamptz NOT NULL,
        finished_at      timestamptz,
        lease_owner      text,
        lease_expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX registry_evaluations_queue ON registry_evaluations (requested_at) WHERE status IN ('requested', 'running')`);
    await q.query('CREATE INDEX registry_evaluations_version ON registry_evaluations (model_version_id, set_sha256)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'registry_evaluations',
      'registry_model_cards',
      'registry_promotions',
      'registry_alias_history',
      'registry_aliases',
      'registry_flags',
      'registry_snapshot_items',
      'registry_versions',
      'registry_models',
      'registry_image_deidentification',
      'registry_set_items',
      'registry_annotation_sets',
      'registry_runs',
      'registry_base_models',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
