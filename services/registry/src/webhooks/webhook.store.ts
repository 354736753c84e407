import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import type { DeliveryQuery, DeliveryStatus } from './webhook-request';

export interface WebhookRow {
  id: string;
  url: string;
  eventTypes: string[];
  createdBy: string;
  createdAt: Date;
  disabledAt: Date | null;
}

export interface DeliveryRow {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  position: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A delivery taken by one sender for one attempt; `attempt` fences what it may record. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventType: string;
  body: string;
  attempt: number;
  url: string;
  secretSealed: Buffer;
  webhookDisabled: boolean;
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  position: number;
  body: string;
}

const MAX_ERROR_LENGTH = 200;

const WEBHOOK_COLUMNS = 'id, url, event_types, created_by, created_at, disabled_at';
type WebhookRecord = { id: string; url: string; event_types: string[]; created_by: string; created_at: Date; disabled_at: Date | null };
const toWebhook = (r: WebhookRecord): WebhookRow => ({
  id: r.id,
  url: r.url,
  eventTypes: r.event_types,
  createdBy: r.created_by,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});

const DELIVERY_COLUMNS =
  'id, webhook_id, event_id, event_type, position, status, attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at';
type DeliveryRecord = {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  position: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
};
const toDelivery = (r: DeliveryRecord): DeliveryRow => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  position: Number(r.position),
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** Every statement on the two webhook tables, in one place (the queue's included). */
@Injectable()
export class WebhookStore {
  constructor(private readonly dataSource: DataSource) {}

  async insertWebhook(w: { id: string; url: string; eventTypes: string[]; secretSealed: Buffer; createdBy: string }): Promise<WebhookRow> {
    const rows: WebhookRecord[] = await this.dataSource.query(
      `INSERT INTO registry_webhooks (id, url, event_types, secret_sealed, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${WEBHOOK_COLUMNS}`,
      [w.id, w.url, w.eventTypes, w.secretSealed, w.createdBy],
    );
    return toWebhook(rows[0]);
  }

  async listWebhooks(): Promise<WebhookRow[]> {
    const rows: WebhookRecord[] = await this.dataSource.query(`SELECT ${WEBHOOK_COLUMNS} FROM registry_webhooks ORDER BY created_at DESC, id DESC`);
    return rows.map(toWebhook);
  }

  async findWebhook(id: string): Promise<WebhookRow | null> {
    const rows: WebhookRecord[] = await this.dataSource.query(`SELECT ${WEBHOOK_COLUMNS} FROM registry_webhooks WHERE id = $1`, [id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  /**
   * Disables a webhook (keeping its log) and fails what it still had pending, in one
   * transaction; disabling twice keeps the first moment. Null when there is no such webhook.
   */
  async disableWebhook(tx: QueryRunner, id: string): Promise<WebhookRow | null> {
    const rows: WebhookRecord[] = await tx.query(
      `WITH disabled AS (
         UPDATE registry_webhooks SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1 RETURNING ${WEBHOOK_COLUMNS})
       SELECT ${WEBHOOK_COLUMNS} FROM disabled`,
      [id],
    );
    if (!rows[0]) return null;
    await tx.query(
      `UPDATE registry_webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = 'webhook disabled'
        WHERE webhook_id = $1 AND status = 'pending'`,
      [id],
    );
    return toWebhook(rows[0]);
  }

  async listDeliveries(webhookId: string, query: DeliveryQuery): Promise<DeliveryRow[]> {
    const rows: DeliveryRecord[] = await this.dataSource.query(
      `SELECT ${DELIVERY_COLUMNS} FROM registry_webhook_deliveries
        WHERE webhook_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [webhookId, query.status, query.limit],
    );
    return rows.map(toDelivery);
  }

  /** Enabled webhooks subscribed to `eventType` or to every type; in the caller's transaction. */
  async subscribers(tx: QueryRunner, eventType: string): Promise<string[]> {
    const rows: { id: string }[] = await tx.query(
      `SELECT id FROM registry_webhooks WHERE disabled_at IS NULL AND event_types && ARRAY[$1, '*']::text[] ORDER BY id`,
      [eventType],
    );
    return rows.map((r) => r.id);
  }

  /** Due at once; a repeated (webhook, event) is ignored, so enqueueing an event twice sends it once. */
  async insertDeliveries(tx: QueryRunner, deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows: { id: string }[] = await tx.query(
      `INSERT INTO registry_webhook_deliveries (id, webhook_id, event_id, event_type, position, body, next_attempt_at)
       SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.position, d.body, now()
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[], $6::text[])
              AS d (id, webhook_id, event_id, event_type, position, body)
       ON CONFLICT (webhook_id, event_id) DO NOTHING
       RETURNING id`,
      [
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.webhookId),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.eventType),
        deliveries.map((d) => d.position),
        deliveries.map((d) => d.body),
      ],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Takes up to `limit` due deliveries for one attempt each. The claim is a lease, not a held
   * lock: the attempt is counted and the row pushed `leaseMs` into the future in one short
   * statement (SKIP LOCKED, so concurrent senders take different rows), and no transaction stays
   * open while the receiver is called. A sender that dies mid-attempt leaves the row due again
   * when the lease ends.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows: {
      id: string;
      webhook_id: string;
      event_type: string;
      body: string;
      attempts: number;
      url: string;
      secret_sealed: Buffer;
      disabled_at: Date | null;
    }[] = await this.dataSource.query(
      // In a CTE so that TypeORM returns the rows (a bare UPDATE answers [rows, count]).
      `WITH due AS (
         SELECT id FROM registry_webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          FOR UPDATE SKIP LOCKED LIMIT $1),
       claimed AS (
         UPDATE registry_webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
           FROM due WHERE d.id = due.id
         RETURNING d.id, d.webhook_id, d.event_type, d.body, d.attempts)
       SELECT c.id, c.webhook_id, c.event_type, c.body, c.attempts, w.url, w.secret_sealed, w.disabled_at
         FROM claimed c JOIN registry_webhooks w ON w.id = c.webhook_id`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      eventType: r.event_type,
      body: r.body,
      attempt: r.attempts,
      url: r.url,
      secretSealed: r.secret_sealed,
      webhookDisabled: r.disabled_at !== null,
    }));
  }

  /** False when the claim was lost meanwhile (its lease ran out and another sender took it). */
  async recordDelivered(id: string, attempt: number, statusCode: number): Promise<boolean> {
    return this.fenced(
      `UPDATE registry_webhook_deliveries SET status = 'delivered', next_attempt_at = NULL, delivered_at = now(), last_status_code = $3, last_error = NULL
        WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id`,
      [id, attempt, statusCode],
    );
  }

  /** A failed attempt: due again after `retryInMs`, or failed for good when that is null. */
  async recordFailure(id: string, attempt: number, failure: { statusCode: number | null; error: string; retryInMs: number | null }): Promise<boolean> {
    return this.fenced(
      `UPDATE registry_webhook_deliveries
          SET status = CASE WHEN $5::double precision IS NULL THEN 'failed' ELSE 'pending' END,
              next_attempt_at = CASE WHEN $5::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $5::double precision / 1000) END,
              last_status_code = $3, last_error = $4
        WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id`,
      [id, attempt, failure.statusCode, failure.error.slice(0, MAX_ERROR_LENGTH), failure.retryInMs],
    );
  }

  /** Gives back an attempt this process abandoned (shutting down): it does not count, and the delivery is due at once. */
  async release(id: string, attempt: number): Promise<boolean> {
    return this.fenced(
      `UPDATE registry_webhook_deliveries SET attempts = attempts - 1, next_attempt_at = now()
        WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id`,
      [id, attempt],
    );
  }

  private async fenced(sql: string, params: unknown[]): Promise<boolean> {
    const rows: { id: string }[] = await this.dataSource.query(`WITH changed AS (${sql}) SELECT id FROM changed`, params);
    return rows.length === 1;
  }
}
