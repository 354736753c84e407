import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { withTransaction } from '@trellis/common';
import { LogNotifier } from '@trellis/event-store';

/** Appends to the same logs within this time are copied in one statement. */
const COALESCE_MS = 200;
/** A sweep of every log, for appends whose notification was lost (LISTEN down, another database client). */
const SWEEP_MS = 60_000;
/**
 * Every log in trellis_events, by a loose index scan of its primary key (one probe per log; the
 * log heads could be tampered with, the events are what an auditor is shown).
 */
export const ALL_LOGS = `SELECT log FROM (WITH RECURSIVE all_logs(log) AS (
    SELECT min(log) FROM trellis_events
    UNION ALL SELECT (SELECT min(e.log) FROM trellis_events e WHERE e.log > all_logs.log) FROM all_logs WHERE all_logs.log IS NOT NULL)
  SELECT log FROM all_logs WHERE log IS NOT NULL) listed`;
/** Any constant: the key of the lock that makes catch-ups take turns. */
const CATCH_UP_LOCK = 7_361_540_221;

/**
 * Keeps lineage_audit_trail, the audit trail's sortable copy of every event's (log, position,
 * occurred_at, actor_id, type), in step with trellis_events (migration AuditTrailOffTheAppendPath
 * says why it is not an index on the events themselves). Appends are copied in batches after they
 * commit: woken by the store's notifications, one statement per wake-up for the logs that were
 * appended to, and a sweep of every log now and then. The trail query catches up with every log
 * before it reads, so what it answers never depends on how far this has got.
 *
 * A log's events become visible in position order (appends to a log take turns on its head), so
 * whatever lies after the highest position copied is exactly what is new. Catch-ups take turns on
 * an advisory lock: two inserting the same rows in different orders could otherwise deadlock.
 */
@Injectable()
export class AuditTrailIndexer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('lineage');
  private readonly pending = new Set<string>();
  private unsubscribe?: () => void;
  private wakeTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    @Optional() private readonly notifier?: LogNotifier,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.unsubscribe = this.notifier?.subscribeAll((log) => {
      this.pending.add(log);
      this.wakeTimer ??= setTimeout(() => {
        this.wakeTimer = undefined;
        const logs = [...this.pending];
        this.pending.clear();
        void this.inBackground(() => this.catchUp(logs));
      }, COALESCE_MS);
    });
    void this.inBackground(() => this.catchUp());
    this.sweepTimer = setInterval(() => void this.inBackground(() => this.catchUp()), SWEEP_MS);
    this.sweepTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.wakeTimer);
    clearInterval(this.sweepTimer);
    await this.running;
  }

  /**
   * Copies every event committed before the call and not yet in the trail; only those of `logs`
   * when given. Resolves with the number of events copied.
   */
  catchUp(logs?: string[]): Promise<number> {
    if (logs?.length === 0) return Promise.resolve(0);
    const source = logs ? 'SELECT unnest($1::text[]) AS log' : ALL_LOGS;
    return withTransaction(this.dataSource, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CATCH_UP_LOCK]);
      const copied: { affected?: number } = await tx.query(
        `WITH logs AS (${source})
         INSERT INTO lineage_audit_trail (log, position, occurred_at, actor_id, type)
         SELECT e.log, e.position, e.occurred_at, e.actor_id, e.type
           FROM logs l
           CROSS JOIN LATERAL (SELECT coalesce(max(t.position), 0) AS done FROM lineage_audit_trail t WHERE t.log = l.log) d
           JOIN trellis_events e ON e.log = l.log AND e.position > d.done
         ON CONFLICT DO NOTHING`,
        logs ? [logs] : [],
        true,
      );
      return copied.affected ?? 0;
    });
  }

  /** One background catch-up at a time; a failure is logged (by its code, never a log's name) and the next wake-up or sweep retries. */
  private inBackground(work: () => Promise<number>): Promise<unknown> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (err) {
        if (!this.stopped) this.logger.warn(`audit trail catch-up failed, will retry: ${(err as { code?: string }).code ?? (err as Error).name}`);
      }
    });
    return this.running;
  }
}
