import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The evaluations table as a work queue shared by every registry process, with a lease per
 * evaluation in PostgreSQL (the trainer's runs work the same way, for the same reasons: one
 * holder per evaluation, renewed while its worker lives, taken over once it lapses).
 */
@Injectable()
export class EvaluationQueue {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the oldest unfinished evaluation nobody holds (or whose holder's lease lapsed); null when there is none. */
  async claim(owner: string, leaseSeconds: number): Promise<string | null> {
    const rows: { evaluation_id: string }[] = await this.dataSource.query(
      // In a CTE so that TypeORM returns the rows (a bare UPDATE answers [rows, count]).
      `WITH claimed AS (
         UPDATE registry_evaluations SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2)
          WHERE evaluation_id = (SELECT evaluation_id FROM registry_evaluations
                                  WHERE status IN ('requested', 'running')
                                    AND (lease_expires_at IS NULL OR lease_expires_at < now())
                                  ORDER BY requested_at, evaluation_id
                                  FOR UPDATE SKIP LOCKED LIMIT 1)
          RETURNING evaluation_id)
       SELECT evaluation_id FROM claimed`,
      [owner, leaseSeconds],
    );
    return rows[0]?.evaluation_id ?? null;
  }

  /** Extends the lease; false when another process holds it now. */
  async renew(evaluationId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH renewed AS (
         UPDATE registry_evaluations SET lease_expires_at = now() + make_interval(secs => $3)
          WHERE evaluation_id = $1 AND lease_owner = $2 RETURNING 1)
       SELECT * FROM renewed`,
      [evaluationId, owner, leaseSeconds],
    );
    return rows.length > 0;
  }

  async release(evaluationId: string, owner: string): Promise<void> {
    await this.dataSource.query('UPDATE registry_evaluations SET lease_owner = NULL, lease_expires_at = NULL WHERE evaluation_id = $1 AND lease_owner = $2', [
      evaluationId,
      owner,
    ]);
  }
}
