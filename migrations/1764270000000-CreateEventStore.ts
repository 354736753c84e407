import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEventStore1764270000000 implements MigrationInterface {
  name = 'CreateEventStore1764270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE trellis_events (
        log            text        NOT NULL,
        position       bigint      NOT NULL,
        event_id       uuid        NOT NULL,
        stream_id      text        NOT NULL,
        stream_version integer     NOT NULL,
        type           text        NOT NULL,
        schema_version integer     NOT NULL,
        occurred_at    timestamptz NOT NULL,
        actor_id       text        NOT NULL,
        actor_role     text        NOT NULL,
        correlation_id uuid        NOT NULL,
        causation_id   uuid,
        data           jsonb       NOT NULL,
        prev_hash      char(64)    NOT NULL,
        hash           char(64)    NOT NULL,
        CONSTRAINT trellis_events_pk PRIMARY KEY (log, position),
        CONSTRAINT trellis_events_stream_version_uq UNIQUE (log, stream_id, stream_version),
        CONSTRAINT trellis_events_event_id_uq UNIQUE (event_id)
      )`);
    await q.query(`
      CREATE TABLE trellis_log_heads (
        log      text     PRIMARY KEY,
        position bigint   NOT NULL,
        hash     char(64) NOT NULL
      )`);
    await q.query(`
      CREATE TABLE trellis_subscription_checkpoints (
        subscription_id text        PRIMARY KEY,
        log             text        NOT NULL,
        position        bigint      NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trellis_subscription_checkpoints');
    await q.query('DROP TABLE trellis_log_heads');
    await q.query('DROP TABLE trellis_events');
  }
}
