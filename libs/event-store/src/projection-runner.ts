import { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import type { EventEnvelope } from '@trellis/contracts';
import { CatchUpSubscription } from './catch-up-subscription';
import { LogNotifier } from './log-notifier';
import { PostgresEventStore } from './postgres-event-store';

/** A read model fed by one log. `reset` must leave it as if no event had been applied. */
export interface Projection {
  name: string;
  log: string;
  apply(event: EventEnvelope, tx: QueryRunner): Promise<void>;
  reset(tx: QueryRunner): Promise<void>;
}

/** Runs projections as catch-up subscriptions and rebuilds them by replay. */
export class ProjectionRunner {
  private readonly running = new Map<string, CatchUpSubscription>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier?: LogNotifier,
  ) {}

  async start(projection: Projection): Promise<CatchUpSubscription> {
    const existing = this.running.get(projection.name);
    if (existing) return existing;
    const sub = new CatchUpSubscription(this.dataSource, this.store, this.notifier, {
      id: subscriptionId(projection),
      log: projection.log,
      handler: (e, tx) => projection.apply(e, tx),
    });
    this.running.set(projection.name, sub);
    await sub.start();
    return sub;
  }

  /** Waits until the projection has applied everything in its log at the time of the call. */
  async catchUp(projection: Projection): Promise<void> {
    const sub = this.running.get(projection.name) ?? (await this.start(projection));
    await sub.waitFor(await this.store.headPosition(projection.log));
  }

  /** Empties the read model, rewinds it to the start of its log and replays it. */
  async rebuild(projection: Projection): Promise<void> {
    await this.running.get(projection.name)?.stop();
    this.running.delete(projection.name);
    await withTransaction(this.dataSource, async (tx) => {
      await projection.reset(tx);
      await tx.query(
        `INSERT INTO trellis_subscription_checkpoints (subscription_id, log, position) VALUES ($1, $2, 0)
         ON CONFLICT (subscription_id) DO UPDATE SET position = 0, updated_at = now()`,
        [subscriptionId(projection), projection.log],
      );
    });
    await this.catchUp(projection);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((s) => s.stop()));
    this.running.clear();
  }
}

function subscriptionId(p: Projection): string {
  return `projection:${p.name}`;
}
