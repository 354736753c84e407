import { join } from 'node:path';
import { dataDirFromEnv } from '@trellis/common';
import { PARAMETER_BUDGET } from './promotion/promotion-gates';
import { RegistryErrorCode, RegistryException } from './registry.exception';

export interface RegistryConfig {
  /** Default metric tolerance of the promotion gate, absolute in each metric's unit (REGISTRY_PROMOTION_TOLERANCE, default 0). */
  promotionTolerance: number;
  /** Parameter budget of the promotion gate (REGISTRY_PARAMETER_BUDGET, default 7e9). */
  parameterBudget: number;
  /** Move a flagged version's aliases back to an unflagged holder at once (REGISTRY_AUTO_DEMOTE=true; default false: flag and report). */
  autoDemote: boolean;
  /** Evaluations one registry process runs at once (REGISTRY_EVALUATION_CONCURRENCY, default 1; 0: this process only takes requests). */
  evaluationConcurrency: number;
  /** How long an evaluation claim holds without a heartbeat (REGISTRY_EVALUATION_LEASE_SECONDS, default 60). */
  evaluationLeaseSeconds: number;
  /** How often an idle registry looks for evaluations (REGISTRY_EVALUATION_POLL_MS, default 1000). */
  evaluationPollMs: number;
  /** Attempts before an evaluation whose worker keeps dying fails (REGISTRY_EVALUATION_MAX_ATTEMPTS, default 3). */
  evaluationMaxAttempts: number;
  /** Local scratch space for evaluations (REGISTRY_WORK_DIR, default ${TRELLIS_DATA_DIR}/registry). */
  workDir: string;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, integer: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new RegistryException(
      RegistryErrorCode.InvalidRequest,
      `${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got ${JSON.stringify(raw)}`,
      [name],
    );
  }
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new RegistryException(RegistryErrorCode.InvalidRequest, `${name} must be true or false, got ${JSON.stringify(env[name])}`, [name]);
}

export function registryConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return {
    promotionTolerance: num(env, 'REGISTRY_PROMOTION_TOLERANCE', 0, 0, false),
    parameterBudget: num(env, 'REGISTRY_PARAMETER_BUDGET', PARAMETER_BUDGET, 1, true),
    autoDemote: bool(env, 'REGISTRY_AUTO_DEMOTE'),
    evaluationConcurrency: num(env, 'REGISTRY_EVALUATION_CONCURRENCY', 1, 0, true),
    evaluationLeaseSeconds: num(env, 'REGISTRY_EVALUATION_LEASE_SECONDS', 60, 2, true),
    evaluationPollMs: num(env, 'REGISTRY_EVALUATION_POLL_MS', 1000, 10, true),
    evaluationMaxAttempts: num(env, 'REGISTRY_EVALUATION_MAX_ATTEMPTS', 3, 1, true),
    workDir: env.REGISTRY_WORK_DIR || join(dataDirFromEnv(env), 'registry'),
  };
}
