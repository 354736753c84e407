import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';

export interface RetryPolicy {
  /** Attempts per event before it is dead-lettered (the first try counts). */
  maxAttempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

export type DeliveryOutcome =
  | { status: 'handled' }
  | { status: 'duplicate' }
  | { status: 'failed'; reason: string; attempts: number };

export type Handle = (event: EventEnvelope, tx: QueryRunner) => Promise<void>;

/**
 * Idempotent delivery of a batch of events inside the caller's transaction. Each event runs in
 * its own savepoint: its "processed by consumer" record and its effect stand or fall together;
 * a handler that throws is retried with backoff, and after the last attempt it is reported as
 * failed (with nothing of it kept) so that the caller can dead-letter it and move on.
 */
export class Inbox {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async deliverBatch(tx: QueryRunner, consumer: string, events: EventEnvelope[], handle: Handle, beforeRetry?: () => Promise<void>): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = [];
    for (const event of events) outcomes.push(await this.deliverOne(tx, consumer, event, handle, beforeRetry));
    return outcomes;
  }

  private async deliverOne(tx: QueryRunner, consumer: string, event: EventEnvelope, handle: Handle, beforeRetry?: () => Promise<void>): Promise<DeliveryOutcome> {
    let delay = this.policy.retryDelayMs;
    let lastError = '';
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      await tx.query('SAVEPOINT trellis_inbox');
      try {
        const fresh: unknown[] = await tx.query(
          `INSERT INTO trellis_processed_events (consumer, event_id, log, position) VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer, event_id) DO NOTHING RETURNING 1`,
          [consumer, event.eventId, event.log, event.position],
        );
        if (fresh.length === 0) {
          await tx.query('RELEASE SAVEPOINT trellis_inbox');
          return { status: 'duplicate' };
        }
        await handle(event, tx);
        await tx.query('RELEASE SAVEPOINT trellis_inbox');
        return { status: 'handled' };
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT trellis_inbox');
        lastError = err instanceof Error ? err.message : String(err);
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
