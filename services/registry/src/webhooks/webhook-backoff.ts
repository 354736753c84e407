import { createHash } from 'node:crypto';

export interface BackoffPolicy {
  /** The wait ceiling after the first failed attempt; it doubles with each further one. */
  baseMs: number;
  /** No wait ceiling exceeds this. */
  capMs: number;
  /** Attempts in all, the first included; the delivery fails after the last. */
  maxAttempts: number;
}

/** 8 attempts over about an hour at most (ceilings 30 s, 1, 2, 4, 8, 16, 32 min), enough to ride out a receiver's restart or deploy. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, capMs: 3_600_000, maxAttempts: 8 };

export type AfterFailure = { status: 'pending'; nextAttemptAt: Date } | { status: 'failed' };

/** A number in [0, 1) fixed by the delivery and the attempt. */
function unitJitter(deliveryId: string, attempt: number): number {
  const digest = createHash('sha256').update(`${deliveryId}:${attempt}`, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The wait after failed attempt `attempt` (1 = the first): "equal jitter", between half the
 * ceiling and the ceiling, where the ceiling is baseMs * 2^(attempt - 1) capped at capMs. The
 * jitter spreads the retries of many deliveries that failed together (a receiver that was down)
 * so they do not return as one burst; it is drawn from the delivery id rather than a random
 * source so that every process, and a test, computes the same moment for the same delivery.
 */
export function retryDelayMs(attempt: number, deliveryId: string, policy: BackoffPolicy): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt counts from 1');
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.round(ceiling / 2 + (unitJitter(deliveryId, attempt) * ceiling) / 2);
}

/** What becomes of a delivery whose attempt `attempt` failed at `now`: another attempt later, or failed for good. */
export function afterFailedAttempt(attempt: number, deliveryId: string, now: Date, policy: BackoffPolicy): AfterFailure {
  if (attempt >= policy.maxAttempts) return { status: 'failed' };
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempt, deliveryId, policy)) };
}

/** Refuses a policy that could not schedule anything sensible, naming the setting. */
export function checkBackoffPolicy(policy: BackoffPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.baseMs) || policy.baseMs < 0) problems.push('baseMs must be an integer of at least 0');
  if (!Number.isInteger(policy.capMs) || policy.capMs < policy.baseMs) problems.push('capMs must be an integer of at least baseMs');
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push('maxAttempts must be an integer of at least 1');
  return problems;
}
