import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks of the registry: subscriptions of HTTP endpoints to registry event types, and the
 * delivery of each event to each matching endpoint, which doubles as the send queue (several
 * processes claim due rows with SKIP LOCKED). A delivery row is written in the transaction that
 * appends its event, so an event is never lost nor announced when its append rolls back.
 */
export class CreateRegistryWebhooks1764800000100 implements MigrationInterface {
  name = 'CreateRegistryWebhooks1764800000100';

  async up(q: QueryRunner): Promise<void> {
    // The signing secret is needed in the clear to sign, so it cannot be hashed: it is sealed
    // (AES-256-GCM, key outside the database), so dumps and backups do not hand it out.
    await q.query(`
      CREATE TABLE registry_webhooks (
        id            uuid        PRIMARY KEY,
        url           text        NOT NULL CHECK (length(url) <= 2048),
        event_types   text[]      NOT NULL CHECK (cardinality(event_types) >= 1),
        secret_sealed bytea       NOT NULL,
        created_by    text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        disabled_at   timestamptz
      )`);
    // Enqueue looks up the enabled webhooks whose types overlap {event type, '*'}.
    await q.query('CREATE INDEX registry_webhooks_enabled_types ON registry_webhooks USING gin (event_types) WHERE disabled_at IS NULL');
    await q.query(`
      CREATE TABLE registry_webhook_deliveries (
        id               uuid        PRIMARY KEY,
        webhook_id       uuid        NOT NULL REFERENCES registry_webhooks (id),
        event_id         uuid        NOT NULL,
        event_type       text        NOT NULL,
        position         bigint      NOT NULL,
        -- text, not jsonb: the exact bytes that are signed, the same on every attempt.
        body             text        NOT NULL,
        status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         integer     NOT NULL DEFAULT 0,
        -- When a pending delivery is due; while an attempt runs, the end of its claim.
        next_attempt_at  timestamptz,
        last_status_code integer,
        last_error       text        CHECK (length(last_error) <= 200),
        created_at       timestamptz NOT NULL DEFAULT now(),
        delivered_at     timestamptz,
        UNIQUE (webhook_id, event_id),
        CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
      )`);
    // The due-poll: pending rows by due time, and nothing else in the index.
    await q.query(`CREATE INDEX registry_webhook_deliveries_due ON registry_webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    // The delivery log of one webhook, newest first.
    await q.query('CREATE INDEX registry_webhook_deliveries_log ON registry_webhook_deliveries (webhook_id, created_at DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE registry_webhook_deliveries');
    await q.query('DROP TABLE registry_webhooks');
  }
}
