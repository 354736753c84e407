import { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import type { EventEnvelope } from '@trellis/contracts';
import { PostgresEventStore } from './postgres-event-store';
import { LogFollower } from './log-follower';
import { LogNotifier } from './log-notifier';

/** Applies one event. Every write must go through `tx`, which also advances the checkpoint. */
export type EventHandler = (event: EventEnvelope, tx: QueryRunner) => Promise<void>;

/** Applies a batch of events in one transaction; the checkpoint moves past all of them. */
export type BatchEventHandler = (events: EventEnvelope[], tx: QueryRunner) => Promise<void>;

export interface SubscriptionOptions {
  /** Stable name; the checkpoint is stored under it. */
  id: string;
  log: string;
  /** One event per transaction... */
  handler?: EventHandler;
  /** ...or a whole batch per transaction (higher throughput; the handler isolates failures). */
  batchHandler?: BatchEventHandler;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Hand events over as stored (no upcasting), for consumers that validate and upcast themselves. */
  asStored?: boolean;
  /** Backoff after a failed handler, doubled per failure up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  onError?: (err: unknown, event: EventEnvelope, attempt: number) => void;
}

const READ_FAILED = 'reading the log failed';

export interface SubscriptionStatus {
  id: string;
  log: string;
  position: number;
  running: boolean;
  lastError?: string;
}

/**
 * Starts at the stored checkpoint, catches up, then follows the log. Each event's effect and
 * the checkpoint move commit in one transaction, with the checkpoint row locked, so a crash at
 * any point neither loses nor repeats an effect, and two instances of one subscription never
 * apply the same event twice.
 */
export class CatchUpSubscription {
  private lastError?: string;
  private readonly follower: LogFollower;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier: LogNotifier | undefined,
    private readonly options: SubscriptionOptions,
  ) {
    this.follower = new LogFollower(options.log, notifier);
  }

  get id(): string {
    return this.options.id;
  }

  status(): SubscriptionStatus {
    return { id: this.options.id, log: this.options.log, position: this.follower.position, running: this.follower.running, lastError: this.lastError };
  }

  async start(): Promise<void> {
    if (this.follower.running) return;
    if (!this.options.handler === !this.options.batchHandler) throw new Error('a subscription needs exactly one of handler and batchHandler');
    await this.dataSource.query(
      'INSERT INTO trellis_subscription_checkpoints (subscription_id, log, position) VALUES ($1, $2, 0) ON CONFLICT (subscription_id) DO NOTHING',
      [this.options.id, this.options.log],
    );
    this.follower.advance(await this.loadCheckpoint());
    this.follower.launch(() => this.run());
  }

  /** Lets the in-flight event finish and commit, then stops. */
  async stop(): Promise<void> {
    await this.follower.halt(`subscription ${this.options.id}`);
  }

  /** Resolves once every event up to `position` has been applied. */
  waitFor(position: number): Promise<void> {
    return this.follower.waitFor(position);
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 100;
    const poll = this.options.pollIntervalMs ?? 1000;
    while (this.follower.running) {
      let batch: EventEnvelope[] = [];
      try {
        batch = await this.store.readLog(this.options.log, this.follower.position, batchSize, undefined, this.options.asStored);
        // The database is back after an outage: the subscription is no longer stalled.
        if (this.lastError?.startsWith(READ_FAILED)) this.lastError = undefined;
      } catch (err) {
        this.lastError = `${READ_FAILED}: ${String(err)}`;
      }
      if (this.options.batchHandler) {
        if (batch.length > 0 && this.follower.running) await this.applyWithRetry(batch);
      } else {
        for (const event of batch) {
          if (!this.follower.running) break;
          await this.applyWithRetry([event]);
        }
      }
      if (batch.length < batchSize && this.follower.running) await this.follower.idle(poll);
    }
  }

  private async applyWithRetry(events: EventEnvelope[]): Promise<void> {
    const event = events[0];
    let delay = this.options.retryDelayMs ?? 200;
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    for (let attempt = 1; this.follower.running; attempt++) {
      try {
        await this.apply(events);
        this.lastError = undefined;
        return;
      } catch (err) {
        // Never skip: an event that keeps failing holds the subscription here, visibly,
        // rather than being lost. Dead-lettering is a policy of the messaging layer above.
        this.lastError = `event ${event.position} (${event.type}) failed on attempt ${attempt}: ${String(err)}`;
        this.options.onError?.(err, event, attempt);
        await this.follower.idle(delay, false);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  }

  private async apply(events: EventEnvelope[]): Promise<void> {
    const applied = await withTransaction(this.dataSource, async (tx) => {
      const rows: { position: string }[] = await tx.query('SELECT position FROM trellis_subscription_checkpoints WHERE subscription_id = $1 FOR UPDATE', [
        this.options.id,
      ]);
      const stored = Number(rows[0].position);
      // Another instance of this subscription may have got here first, or the checkpoint was
      // rewound (a projection rebuild): apply only what continues the stored checkpoint, and
      // otherwise re-read from it.
      const fresh = events.filter((e) => e.position > stored);
      if (fresh.length === 0 || fresh[0].position !== stored + 1) return stored;
      if (this.options.batchHandler) await this.options.batchHandler(fresh, tx);
      else for (const e of fresh) await this.options.handler!(e, tx);
      const last = fresh[fresh.length - 1].position;
      await tx.query('UPDATE trellis_subscription_checkpoints SET position = $2, updated_at = now() WHERE subscription_id = $1', [this.options.id, last]);
      return last;
    });
    this.follower.advance(applied);
  }

  private async loadCheckpoint(): Promise<number> {
    const rows: { position: string }[] = await this.dataSource.query('SELECT position FROM trellis_subscription_checkpoints WHERE subscription_id = $1', [
      this.options.id,
    ]);
    return Number(rows[0].position);
  }
}
