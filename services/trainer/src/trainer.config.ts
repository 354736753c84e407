import { join } from 'node:path';
import { dataDirFromEnv } from '@trellis/common';
import { TrainerErrorCode, TrainerException } from './trainer.exception';

export interface TrainerConfig {
  /** Runs one trainer process works on at once (TRAINER_CONCURRENCY, default 1; 0: this process only takes requests). */
  concurrency: number;
  /** How long a claim holds without a heartbeat (TRAINER_LEASE_SECONDS, default 30): a dead process's run is taken over after it. */
  leaseSeconds: number;
  /** How often an idle trainer looks for work (TRAINER_POLL_MS, default 1000). */
  pollMs: number;
  /** At most one TrainingProgressed per this many milliseconds (TRAINER_PROGRESS_MS, default 1000). */
  progressIntervalMs: number;
  /** Attempts before a run whose worker keeps dying fails (TRAINER_MAX_ATTEMPTS, default 3). */
  maxAttempts: number;
  /** Local scratch space for runs (TRAINER_WORK_DIR, default ${TRELLIS_DATA_DIR}/trainer). */
  workDir: string;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new TrainerException(TrainerErrorCode.InvalidRequest, `${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`, [name]);
  return n;
}

export function trainerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TrainerConfig {
  return {
    concurrency: int(env, 'TRAINER_CONCURRENCY', 1, 0),
    leaseSeconds: int(env, 'TRAINER_LEASE_SECONDS', 30, 2),
    pollMs: int(env, 'TRAINER_POLL_MS', 1000, 10),
    progressIntervalMs: int(env, 'TRAINER_PROGRESS_MS', 1000, 0),
    maxAttempts: int(env, 'TRAINER_MAX_ATTEMPTS', 3, 1),
    workDir: env.TRAINER_WORK_DIR || join(dataDirFromEnv(env), 'trainer'),
  };
}
