import { DataSource, QueryRunner } from 'typeorm';
import { EventContractRegistry, EventEnvelope } from '@trellis/contracts';
import { CatchUpSubscription, LogNotifier, PostgresEventStore } from '@trellis/event-store';
import type { EventHandler } from '../event-handler';
import type { DeliveryStatus, EventDelivery } from '../event-delivery';
import { validateEnvelope } from '../envelope-validation';
import { Inbox } from '../inbox';

/**
 * The embedded default: handlers fed straight from the PostgreSQL logs by catch-up
 * subscriptions, with the same validation, inbox, retries and dead-lettering (into
 * trellis_dead_letters) as the Kafka path. A batch, its dead letters and the checkpoint
 * commit together.
 */
export class InProcessDelivery implements EventDelivery {
  readonly mode = 'in-process' as const;
  private readonly subscriptions = new Map<EventHandler, CatchUpSubscription>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier: LogNotifier | undefined,
    private readonly registry: EventContractRegistry,
    private readonly inbox: Inbox,
    private readonly handlers: EventHandler[],
    private readonly options: { batchSize?: number; pollIntervalMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    for (const h of this.handlers) {
      const sub = new CatchUpSubscription(this.dataSource, this.store, this.notifier, {
        id: `consumer:${h.consumer}:${h.context}`,
        log: h.context,
        batchSize: this.options.batchSize ?? 200,
        pollIntervalMs: this.options.pollIntervalMs ?? 1000,
        asStored: true,
        batchHandler: (events, tx) => this.deliver(h, events, tx),
      });
      this.subscriptions.set(h, sub);
      await sub.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.subscriptions.values()].map((s) => s.stop()));
    this.subscriptions.clear();
  }

  /** Resolves once `consumer` has dealt with everything in `context` up to `position`. */
  async waitFor(consumer: string, context: string, position: number): Promise<void> {
    const entry = [...this.subscriptions.entries()].find(([h]) => h.consumer === consumer && h.context === context);
    if (!entry) throw new Error(`no in-process consumer ${consumer} for ${context}`);
    await entry[1].waitFor(position);
  }

  async status(): Promise<DeliveryStatus> {
    const consumers = await Promise.all(
      [...this.subscriptions.entries()].map(async ([h, s]) => {
        const st = s.status();
        return { consumer: h.consumer, context: h.context, lag: (await this.store.headPosition(h.context)) - st.position, lastError: st.lastError };
      }),
    );
    return { mode: this.mode, relays: [], consumers };
  }

  private async deliver(h: EventHandler, events: EventEnvelope[], tx: QueryRunner): Promise<void> {
    const valid: EventEnvelope[] = [];
    for (const raw of events) {
      const checked = validateEnvelope(raw, this.registry);
      if (checked.ok) valid.push(checked.event);
      else await this.deadLetter(tx, h, raw, checked.reason, 0);
    }
    const outcomes = await this.inbox.deliverBatch(tx, h, valid);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'failed') await this.deadLetter(tx, h, valid[i], outcome.reason, outcome.attempts);
    }
  }

  private async deadLetter(tx: QueryRunner, h: EventHandler, e: EventEnvelope, reason: string, attempts: number): Promise<void> {
    await tx.query('INSERT INTO trellis_dead_letters (consumer, log, position, event_id, event_type, reason, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      h.consumer,
      e.log,
      e.position,
      e.eventId,
      e.type,
      reason.slice(0, 2000),
      attempts,
    ]);
  }
}
