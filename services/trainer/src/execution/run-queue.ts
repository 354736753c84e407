import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The runs table as a work queue shared by every trainer process, with a lease per run in
 * PostgreSQL. Why not a Kafka consumer group: a group hands out partitions, not runs, so one
 * long run would hold back every run keyed to its partition, and a consumer that is busy
 * training past the session timeout is rebalanced away while it still trains, so the run would
 * run twice. A lease gives each run exactly one holder, renewed by heartbeat while the worker
 * lives, and taken over (and resumed from the last checkpoint) once it lapses.
 */
@Injectable()
export class RunQueue {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the oldest unfinished run nobody holds (or whose holder's lease lapsed); null when there is none. */
  async claim(owner: string, leaseSeconds: number): Promise<string | null> {
    const rows: { run_id: string }[] = await this.dataSource.query(
      // In a CTE so that TypeORM returns the rows (a bare UPDATE answers [rows, count]).
      `WITH claimed AS (
         UPDATE trainer_runs SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2)
          WHERE run_id = (SELECT run_id FROM trainer_runs
                           WHERE status IN ('requested', 'frozen', 'running')
                             AND (lease_expires_at IS NULL OR lease_expires_at < now())
                           ORDER BY requested_at, run_id
                           FOR UPDATE SKIP LOCKED LIMIT 1)
          RETURNING run_id)
       SELECT run_id FROM claimed`,
      [owner, leaseSeconds],
    );
    return rows[0]?.run_id ?? null;
  }

  /** Extends the lease; says whether it is still held and whether cancellation was asked for. */
  async renew(runId: string, owner: string, leaseSeconds: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    const rows: { cancel_requested: boolean }[] = await this.dataSource.query(
      `WITH renewed AS (
         UPDATE trainer_runs SET lease_expires_at = now() + make_interval(secs => $3)
          WHERE run_id = $1 AND lease_owner = $2 RETURNING cancel_requested)
       SELECT cancel_requested FROM renewed`,
      [runId, owner, leaseSeconds],
    );
    return rows[0] ? { held: true, cancelRequested: rows[0].cancel_requested } : { held: false, cancelRequested: false };
  }

  /** Gives the run back (its worker died): any trainer, this one included, may take it again. */
  async release(runId: string, owner: string): Promise<void> {
    await this.dataSource.query('UPDATE trainer_runs SET lease_owner = NULL, lease_expires_at = NULL WHERE run_id = $1 AND lease_owner = $2', [runId, owner]);
  }
}
