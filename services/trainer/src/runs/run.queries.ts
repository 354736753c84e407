import type { DataSource, QueryRunner } from 'typeorm';
import type { AnnotationSetRef, BaseModelRegistered, TrainingRequested, TrainingSnapshotFrozen } from '@trellis/contracts';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import type { RunStatus } from './run.decider';
import type { SetReference } from './run-request';

type Db = DataSource | QueryRunner;

export interface RunView {
  runId: string;
  status: Exclude<RunStatus, 'none'>;
  method: string;
  request: TrainingRequested['data'];
  requestedBy: string;
  requestedAt: string;
  snapshot: TrainingSnapshotFrozen['data']['snapshot'] | null;
  replaces: TrainingSnapshotFrozen['data']['replaces'];
  step: number;
  totalSteps: number | null;
  lastProgress: unknown;
  checkpoint: unknown;
  attempts: number;
  backend: string | null;
  cancelRequested: boolean;
  outcome: unknown;
  updatedAt: string;
}

interface RunRow {
  run_id: string;
  status: RunView['status'];
  method: string;
  request: TrainingRequested['data'];
  requested_by: string;
  requested_at: Date;
  snapshot: TrainingSnapshotFrozen['data'] | null;
  total_steps: number | null;
  step: number;
  last_progress: unknown;
  checkpoint: unknown;
  attempts: number;
  backend: string | null;
  cancel_requested: boolean;
  outcome: unknown;
  updated_at: Date;
}

const toView = (r: RunRow): RunView => ({
  runId: r.run_id,
  status: r.status,
  method: r.method,
  request: r.request,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at.toISOString(),
  snapshot: r.snapshot?.snapshot ?? null,
  replaces: r.snapshot?.replaces ?? null,
  step: r.step,
  totalSteps: r.total_steps,
  lastProgress: r.last_progress,
  checkpoint: r.checkpoint,
  attempts: r.attempts,
  backend: r.backend,
  cancelRequested: r.cancel_requested,
  outcome: r.outcome,
  updatedAt: r.updated_at.toISOString(),
});

export async function findRun(db: Db, runId: string): Promise<RunView | null> {
  const rows: RunRow[] = await db.query('SELECT * FROM trainer_runs WHERE run_id = $1', [runId]);
  return rows[0] ? toView(rows[0]) : null;
}

export async function requireRun(db: Db, runId: string): Promise<RunView> {
  const run = await findRun(db, runId);
  if (!run) throw new TrainerException(TrainerErrorCode.RunNotFound, `no training run ${runId}`);
  return run;
}

export async function listRuns(db: Db, status: string | undefined, limit: number): Promise<RunView[]> {
  const rows: RunRow[] = await db.query(`SELECT * FROM trainer_runs WHERE ($1::text IS NULL OR status = $1) ORDER BY requested_at DESC, run_id LIMIT $2`, [
    status ?? null,
    limit,
  ]);
  return rows.map(toView);
}

export interface BaseModelView {
  baseModelId: string;
  preset: string | null;
  manifestSha256: string;
  files: BaseModelRegistered['data']['files'];
  architecture: BaseModelRegistered['data']['architecture'];
  pretraining: BaseModelRegistered['data']['pretraining'];
  registeredBy: string;
  registeredAt: string;
}

interface BaseModelRow {
  base_model_id: string;
  preset: string | null;
  manifest_sha256: string;
  files: BaseModelView['files'];
  architecture: BaseModelView['architecture'];
  pretraining: BaseModelView['pretraining'];
  registered_by: string;
  registered_at: Date;
}

const toBaseModel = (r: BaseModelRow): BaseModelView => ({
  baseModelId: r.base_model_id,
  preset: r.preset,
  manifestSha256: r.manifest_sha256,
  files: r.files,
  architecture: r.architecture,
  pretraining: r.pretraining,
  registeredBy: r.registered_by,
  registeredAt: r.registered_at.toISOString(),
});

export async function findBaseModel(db: Db, baseModelId: string): Promise<BaseModelView | null> {
  const rows: BaseModelRow[] = await db.query('SELECT * FROM trainer_base_models WHERE base_model_id = $1', [baseModelId]);
  return rows[0] ? toBaseModel(rows[0]) : null;
}

export async function listBaseModels(db: Db): Promise<BaseModelView[]> {
  const rows: BaseModelRow[] = await db.query('SELECT * FROM trainer_base_models ORDER BY registered_at DESC, base_model_id');
  return rows.map(toBaseModel);
}

/** Each reference as the set the trainer received, or null where it has received no such set. */
export async function resolveSets(db: Db, refs: readonly SetReference[]): Promise<(AnnotationSetRef | null)[]> {
  const out: (AnnotationSetRef | null)[] = [];
  for (const ref of refs) {
    const rows: { set_id: string; project_id: string; version: number; content_sha256: string }[] =
      'setId' in ref
        ? await db.query('SELECT set_id, project_id, version, content_sha256 FROM trainer_annotation_sets WHERE set_id = $1', [ref.setId])
        : await db.query('SELECT set_id, project_id, version, content_sha256 FROM trainer_annotation_sets WHERE project_id = $1 AND version = $2', [
            ref.projectId,
            ref.version,
          ]);
    out.push(rows[0] ? { setId: rows[0].set_id, projectId: rows[0].project_id, version: rows[0].version, contentSha256: rows[0].content_sha256 } : null);
  }
  return out;
}
