import type { QueryRunner } from 'typeorm';
import { EventEnvelope, TRAINER_LOG, TrainerEvent } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/**
 * The runs (which are also the work queue) and the base models, fed by the `trainer` log. Use
 * cases apply their own events in the appending transaction, so the queue sees a new run at
 * once; every statement is an upsert or a guarded update, so a replay gives the same tables.
 * The lease columns are not event-sourced: they say which process works on a run right now.
 */
export class TrainerProjection implements Projection {
  readonly name = 'trainer-read-model';
  readonly log = TRAINER_LOG;

  async apply(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const event = { type: envelope.type, data: envelope.data } as TrainerEvent;
    const at = envelope.occurredAt;
    switch (event.type) {
      case 'BaseModelRegistered': {
        const d = event.data;
        await tx.query(
          `INSERT INTO trainer_base_models (base_model_id, preset, manifest_sha256, files, architecture, pretraining, registered_by, registered_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (base_model_id) DO NOTHING`,
          [
            d.baseModelId,
            d.preset,
            d.manifestSha256,
            JSON.stringify(d.files),
            JSON.stringify(d.architecture),
            JSON.stringify(d.pretraining),
            envelope.actor.id,
            at,
          ],
        );
        return;
      }
      case 'TrainingRequested':
        await tx.query(
          `INSERT INTO trainer_runs (run_id, status, method, request, requested_by, requested_at, updated_at)
           VALUES ($1,'requested',$2,$3,$4,$5,$5) ON CONFLICT (run_id) DO NOTHING`,
          [event.data.runId, event.data.method, JSON.stringify(event.data), envelope.actor.id, at],
        );
        return;
      case 'TrainingSnapshotFrozen':
        await this.update(tx, event.data.runId, at, `status = 'frozen', snapshot = $3, total_steps = $4`, [JSON.stringify(event.data), event.data.totalSteps]);
        return;
      case 'TrainingStarted':
        await this.update(tx, event.data.runId, at, `status = 'running', attempts = $3, backend = $4, step = COALESCE($5, 0)`, [
          event.data.attempt,
          event.data.backend,
          event.data.resumedFromStep,
        ]);
        return;
      case 'TrainingProgressed':
        await this.update(tx, event.data.runId, at, 'step = $3, last_progress = $4', [event.data.step, JSON.stringify(event.data)]);
        return;
      case 'TrainingCheckpointed':
        await this.update(tx, event.data.runId, at, 'checkpoint = $3', [JSON.stringify({ step: event.data.step, files: event.data.files })]);
        return;
      case 'TrainingCompleted':
        await this.update(tx, event.data.runId, at, `status = 'completed', step = $3, outcome = $4, lease_owner = NULL, lease_expires_at = NULL`, [
          event.data.steps,
          JSON.stringify(event.data),
        ]);
        return;
      case 'TrainingFailed':
        await this.update(tx, event.data.runId, at, `status = 'failed', outcome = $3, lease_owner = NULL, lease_expires_at = NULL`, [
          JSON.stringify(event.data),
        ]);
        return;
      case 'TrainingCancelRequested':
        await this.update(tx, event.data.runId, at, 'cancel_requested = true', []);
        return;
      case 'TrainingCancelled':
        await this.update(tx, event.data.runId, at, `status = 'cancelled', outcome = $3, lease_owner = NULL, lease_expires_at = NULL`, [
          JSON.stringify(event.data),
        ]);
        return;
    }
  }

  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('DELETE FROM trainer_runs');
    await tx.query('DELETE FROM trainer_base_models');
  }

  private async update(tx: QueryRunner, runId: string, at: string, set: string, params: unknown[]): Promise<void> {
    await tx.query(`UPDATE trainer_runs SET ${set}, updated_at = $2 WHERE run_id = $1`, [runId, at, ...params]);
  }
}
