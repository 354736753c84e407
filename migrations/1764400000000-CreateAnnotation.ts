import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the annotation service. All of them are rebuilt from the `annotation` log
 * (and, for the published dataset versions and withdrawn subjects, from what the service
 * consumed); none holds personal data: people and subjects appear as pseudonymous ids.
 */
export class CreateAnnotation1764400000000 implements MigrationInterface {
  name = 'CreateAnnotation1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // Published dataset versions, kept so that a project created after the version was
    // published still gets its tasks. `items` holds the image members with their report.
    await q.query(`
      CREATE TABLE annotation_dataset_versions (
        dataset_id      uuid        NOT NULL,
        version         integer     NOT NULL,
        name            text        NOT NULL,
        merkle_root     char(64)    NOT NULL,
        manifest_key    text        NOT NULL,
        manifest_sha256 char(64)    NOT NULL,
        status          text        NOT NULL CHECK (status IN ('ready', 'unreadable')),
        problem         text,
        items           jsonb       NOT NULL DEFAULT '[]',
        received_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (dataset_id, version)
      )`);
    await q.query(`
      CREATE TABLE annotation_projects (
        project_id           uuid        PRIMARY KEY,
        name                 text        NOT NULL,
        dataset_id           uuid        NOT NULL,
        dataset_version      integer     NOT NULL,
        task_type            text        NOT NULL,
        labels               text[]      NOT NULL,
        guidelines           text        NOT NULL,
        annotations_per_item integer     NOT NULL,
        agreement_threshold  double precision NOT NULL,
        max_text_length      integer     NOT NULL,
        tasks_created        boolean     NOT NULL DEFAULT false,
        created_by           text        NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX annotation_projects_dataset ON annotation_projects (dataset_id, dataset_version)');
    await q.query(`
      CREATE TABLE annotation_tasks (
        task_id         uuid        PRIMARY KEY,
        project_id      uuid        NOT NULL REFERENCES annotation_projects (project_id),
        item_id         uuid        NOT NULL,
        subject_id      uuid        NOT NULL,
        image_key       text        NOT NULL,
        report_asset_id uuid,
        report_key      text,
        status          text        NOT NULL CHECK (status IN ('open', 'adjudication', 'final', 'cancelled')),
        cancel_reason   text,
        final_answer    jsonb,
        final_source    text,
        agreement       double precision,
        adjudicator_id  text,
        seq             bigserial   NOT NULL,
        UNIQUE (project_id, item_id)
      )`);
    await q.query('CREATE INDEX annotation_tasks_open ON annotation_tasks (project_id, status, seq)');
    await q.query('CREATE INDEX annotation_tasks_subject ON annotation_tasks (subject_id)');
    await q.query(`
      CREATE TABLE annotation_assignments (
        assignment_id uuid        PRIMARY KEY,
        task_id       uuid        NOT NULL REFERENCES annotation_tasks (task_id),
        project_id    uuid        NOT NULL,
        annotator_id  text        NOT NULL,
        status        text        NOT NULL CHECK (status IN ('assigned', 'submitted', 'accepted', 'rejected')),
        answer        jsonb,
        reviewer_id   text,
        review_reason text,
        assigned_at   timestamptz NOT NULL,
        submitted_at  timestamptz,
        UNIQUE (task_id, annotator_id)
      )`);
    await q.query('CREATE INDEX annotation_assignments_annotator ON annotation_assignments (project_id, annotator_id, status)');
    await q.query('CREATE INDEX annotation_assignments_review ON annotation_assignments (project_id, status)');
    // Subjects whose items must not be annotated or published any more, and why.
    await q.query(`
      CREATE TABLE annotation_excluded_subjects (
        subject_id  uuid        NOT NULL,
        reason      text        NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (subject_id, reason)
      )`);
    await q.query(`
      CREATE TABLE annotation_sets (
        set_id         uuid        PRIMARY KEY,
        project_id     uuid        NOT NULL REFERENCES annotation_projects (project_id),
        version        integer     NOT NULL,
        content_sha256 char(64)    NOT NULL,
        artifact_key   text        NOT NULL,
        item_count     integer     NOT NULL,
        left_out_count integer     NOT NULL,
        left_out       jsonb       NOT NULL,
        pending_count  integer     NOT NULL,
        published_by   text        NOT NULL,
        published_at   timestamptz NOT NULL,
        UNIQUE (project_id, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'annotation_sets',
      'annotation_excluded_subjects',
      'annotation_assignments',
      'annotation_tasks',
      'annotation_projects',
      'annotation_dataset_versions',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
