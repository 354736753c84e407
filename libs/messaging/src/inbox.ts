import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import { isPermanentError } from '@trellis/errors';
import type { EventHandler } from './event-handler';

export interface RetryPolicy {
  /** Attempts per event before it is dead-lettered (the first try counts). */
  maxAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

export type DeliveryOutcome = { status: 'handled' } | { status: 'duplicate' } | { status: 'failed'; reason: string; attempts: number };

/** The part of an EventHandler the inbox needs. */
export type InboxHandler = Pick<EventHandler, 'consumer' | 'handle' | 'handleBatch'>;

/**
 * Idempotent delivery of a batch of events inside the caller's transaction: an event's
 * "processed by consumer" record and its effect stand or fall together, so a redelivered event
 * has no second effect. A handler that throws a transient error is retried with backoff, and
 * after the last attempt, or at once for a permanent error (a domain rule or a contract), the
 * event is reported as failed (with nothing of it kept) so that the caller can dead-letter it
 * and move on.
 */
export class Inbox {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /**
   * Fast path first: record the whole batch as processed in one statement and apply it without
   * per-event savepoints (through `handleBatch` when the handler has one). Only if that throws is
   * the batch undone and delivered again one event at a time, each in its own savepoint.
   */
  async deliverBatch(tx: QueryRunner, handler: InboxHandler, events: EventEnvelope[], beforeRetry?: () => Promise<void>): Promise<DeliveryOutcome[]> {
    if (events.length === 0) return [];
    const consumer = handler.consumer;
    await tx.query('SAVEPOINT trellis_inbox_batch');
    try {
      const fresh: { event_id: string }[] = await tx.query(
        `INSERT INTO trellis_processed_events (consumer, event_id, log, position)
         SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::bigint[])
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [consumer, events.map((e) => e.eventId), events.map((e) => e.log), events.map((e) => e.position)],
      );
      // A redelivered event can sit twice in one batch (a relay that published it again):
      // only its first copy is fresh.
      const freshIds = new Set(fresh.map((r) => r.event_id));
      const outcomes: DeliveryOutcome[] = events.map((e) => {
        if (!freshIds.has(e.eventId)) return { status: 'duplicate' };
        freshIds.delete(e.eventId);
        return { status: 'handled' };
      });
      const todo = events.filter((_, i) => outcomes[i].status === 'handled');
      if (handler.handleBatch && todo.length > 0) await handler.handleBatch(todo, tx);
      else for (const e of todo) await handler.handle(e, tx);
      await tx.query('RELEASE SAVEPOINT trellis_inbox_batch');
      return outcomes;
    } catch {
      await tx.query('ROLLBACK TO SAVEPOINT trellis_inbox_batch');
    }
    const outcomes: DeliveryOutcome[] = [];
    for (const event of events) outcomes.push(await this.deliverOne(tx, handler, event, beforeRetry));
    return outcomes;
  }

  private async deliverOne(tx: QueryRunner, handler: InboxHandler, event: EventEnvelope, beforeRetry?: () => Promise<void>): Promise<DeliveryOutcome> {
    let delay = this.policy.retryDelayMs;
    let lastError = '';
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      await tx.query('SAVEPOINT trellis_inbox');
      try {
        const fresh: unknown[] = await tx.query(
          `INSERT INTO trellis_processed_events (consumer, event_id, log, position) VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer, event_id) DO NOTHING RETURNING 1`,
          [handler.consumer, event.eventId, event.log, event.position],
        );
        if (fresh.length === 0) {
          await tx.query('RELEASE SAVEPOINT trellis_inbox');
          return { status: 'duplicate' };
        }
        await handler.handle(event, tx);
        await tx.query('RELEASE SAVEPOINT trellis_inbox');
        return { status: 'handled' };
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT trellis_inbox');
        lastError = err instanceof Error ? err.message : String(err);
        // A broken rule or contract gives the same answer every time: waiting for four more
        // refusals only holds the partition up.
        if (isPermanentError(err)) return { status: 'failed', reason: `permanent ${err.code} (${err.reason}): ${lastError}`, attempts: attempt };
        if (attempt < this.policy.maxAttempts) {
          await beforeRetry?.();
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.policy.maxRetryDelayMs);
        }
      }
    }
    return { status: 'failed', reason: `handler failed ${this.policy.maxAttempts} times: ${lastError}`, attempts: this.policy.maxAttempts };
  }
}
