import { Inject, Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, EventEnvelope, registryContracts } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { WEBHOOK_CONFIG, WebhookConfig } from './webhook.config';
import { WebhookErrorCode, WebhookException } from './webhook.exception';
import { DeliveryStatus, displayUrl, parseDeliveryQuery, parseWebhookRegistration, RequestProblem, webhookIdProblem } from './webhook-request';
import { newWebhookSecret, sealWebhookSecret } from './webhook-secret.cipher';
import { DeliveryRow, WebhookRow, WebhookStore } from './webhook.store';

export interface WebhookView {
  id: string;
  /** Origin and path; a query string is shown as `?…` (it may carry the receiver's token). */
  url: string;
  eventTypes: string[];
  createdBy: string;
  createdAt: string;
  disabledAt: string | null;
}

/** The answer to a registration: the only time the signing secret is shown. */
export interface RegisteredWebhookView extends WebhookView {
  secret: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  position: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** What a subscriber receives, byte for byte what is signed. */
export interface WebhookBody {
  id: string;
  type: string;
  occurredAt: string;
  position: number;
  data: unknown;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const toView = (w: WebhookRow): WebhookView => ({
  id: w.id,
  url: displayUrl(w.url),
  eventTypes: w.eventTypes,
  createdBy: w.createdBy,
  createdAt: w.createdAt.toISOString(),
  disabledAt: iso(w.disabledAt),
});

const toDeliveryView = (d: DeliveryRow): DeliveryView => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  position: d.position,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: iso(d.nextAttemptAt),
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  deliveredAt: iso(d.deliveredAt),
});

function refuse(problems: RequestProblem[]): never {
  throw new WebhookException(
    WebhookErrorCode.InvalidRequest,
    `the request has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    problems.map((p) => p.field),
  );
}

function requireId(id: unknown): string {
  const problem = webhookIdProblem(id);
  if (problem) refuse([problem]);
  return (id as string).toLowerCase();
}

/** The webhook body of a registry event: its id, type, moment, log position and data (ids, hashes, counts). */
export function webhookBody(envelope: EventEnvelope): string {
  const body: WebhookBody = { id: envelope.eventId, type: envelope.type, occurredAt: envelope.occurredAt, position: envelope.position, data: envelope.data };
  return JSON.stringify(body);
}

/**
 * Registering, listing and disabling webhooks and reading their delivery log (the controller
 * lets admins only), and `enqueue`, which the registry calls in the transaction of its append.
 */
@Injectable()
export class WebhookUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_CONFIG) private readonly config: WebhookConfig,
  ) {}

  async register(body: unknown, actor: Actor): Promise<RegisteredWebhookView> {
    const { request, problems } = parseWebhookRegistration(body);
    if (!request) refuse(problems);
    const id = uuidv7();
    const secret = newWebhookSecret();
    const row = await this.store.insertWebhook({
      id,
      url: request.url,
      eventTypes: request.eventTypes,
      secretSealed: sealWebhookSecret(this.config.secretKey, id, secret),
      createdBy: actor.id,
    });
    return { ...toView(row), secret };
  }

  async list(): Promise<WebhookView[]> {
    return (await this.store.listWebhooks()).map(toView);
  }

  /** Stops deliveries to the webhook: pending ones end failed ('webhook disabled'); its log stays readable. */
  async disable(id: unknown): Promise<WebhookView> {
    const webhookId = requireId(id);
    const row = await withTransaction(this.dataSource, (tx) => this.store.disableWebhook(tx, webhookId));
    if (!row) throw new WebhookException(WebhookErrorCode.WebhookNotFound, `no webhook ${webhookId}`, ['params.id']);
    return toView(row);
  }

  /** The deliveries of one webhook, newest first, with their attempts and last outcome. */
  async deliveries(id: unknown, limit: unknown, status: unknown): Promise<DeliveryView[]> {
    const webhookId = requireId(id);
    const { query, problems } = parseDeliveryQuery(limit, status);
    if (!query) refuse(problems);
    if (!(await this.store.findWebhook(webhookId))) throw new WebhookException(WebhookErrorCode.WebhookNotFound, `no webhook ${webhookId}`, ['params.id']);
    return (await this.store.listDeliveries(webhookId, query)).map(toDeliveryView);
  }

  /**
   * One pending delivery per enabled webhook subscribed to the event's type (or to '*'), written
   * in `tx`, the transaction that appended the event: a delivery exists exactly when its event
   * committed. Returns the new deliveries' ids. Senders hear of them when the append's commit
   * notifies its log, and otherwise at their next poll.
   */
  async enqueue(tx: QueryRunner, envelope: EventEnvelope): Promise<string[]> {
    if (!registryContracts.has(envelope.type)) {
      // The type is a contract name, not input; it says which caller is wrong.
      throw new WebhookException(WebhookErrorCode.NotARegistryEvent, `enqueue takes registry events only, not ${envelope.type}`);
    }
    const webhookIds = await this.store.subscribers(tx, envelope.type);
    if (webhookIds.length === 0) return [];
    const body = webhookBody(envelope);
    return this.store.insertDeliveries(
      tx,
      webhookIds.map((webhookId) => ({ id: uuidv7(), webhookId, eventId: envelope.eventId, eventType: envelope.type, position: envelope.position, body })),
    );
  }
}
