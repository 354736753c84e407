import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMessaging1764270003000 implements MigrationInterface {
  name = 'CreateMessaging1764270003000';

  async up(q: QueryRunner): Promise<void> {
    // The inbox: an event id recorded here commits in the same transaction as the handler's
    // effect, so a redelivered event has no second effect.
    await q.query(`
      CREATE TABLE trellis_processed_events (
        consumer     text        NOT NULL,
        event_id     uuid        NOT NULL,
        log          text        NOT NULL,
        position     bigint      NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trellis_processed_events_pk PRIMARY KEY (consumer, event_id)
      )`);
    // How far each relay has published its log to Kafka (after the broker acknowledged).
    await q.query(`
      CREATE TABLE trellis_relay_positions (
        relay_id   text        PRIMARY KEY,
        log        text        NOT NULL,
        topic      text        NOT NULL,
        position   bigint      NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Dead letters of in-process delivery (Kafka delivery uses <topic>.dlq instead).
    await q.query(`
      CREATE TABLE trellis_dead_letters (
        id         bigserial   PRIMARY KEY,
        consumer   text        NOT NULL,
        log        text        NOT NULL,
        position   bigint      NOT NULL,
        event_id   uuid,
        event_type text,
        reason     text        NOT NULL,
        attempts   integer     NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX trellis_dead_letters_consumer_idx ON trellis_dead_letters (consumer, created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE trellis_dead_letters');
    await q.query('DROP TABLE trellis_relay_positions');
    await q.query('DROP TABLE trellis_processed_events');
  }
}
