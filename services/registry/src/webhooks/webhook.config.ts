import { join } from 'node:path';
import { dataDirFromEnv, loadOrCreateSecret } from '@trellis/common';
import { REGISTRY_LOG } from '@trellis/contracts';
import { BackoffPolicy, checkBackoffPolicy, DEFAULT_BACKOFF } from './webhook-backoff';
import { WebhookErrorCode, WebhookException } from './webhook.exception';

export const WEBHOOK_CONFIG = Symbol('REGISTRY_WEBHOOK_CONFIG');

export interface WebhookConfig {
  /** How often an idle sender looks for due deliveries (REGISTRY_WEBHOOK_POLL_MS, default 1000). */
  pollMs: number;
  /** One POST may take this long, connection included (REGISTRY_WEBHOOK_TIMEOUT_MS, default 10000). */
  timeoutMs: number;
  /** Deliveries this process sends at once (REGISTRY_WEBHOOK_CONCURRENCY, default 4; 0: this process sends none). */
  concurrency: number;
  /** REGISTRY_WEBHOOK_MAX_ATTEMPTS (8), REGISTRY_WEBHOOK_BACKOFF_BASE_MS (30000), REGISTRY_WEBHOOK_BACKOFF_CAP_MS (3600000). */
  backoff: BackoffPolicy;
  /**
   * Logs whose commits wake the sender at once (through the event store's LISTEN notifier): the
   * registry's. Deliveries are written in the transaction of their events, so the notification
   * of that append is the moment they become visible.
   */
  wakeOnLogs: string[];
  /** Seals the signing secrets: REGISTRY_WEBHOOK_KEY (64 hex characters), else a key file under the data directory. */
  secretKey: Buffer;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new WebhookException(WebhookErrorCode.InvalidConfiguration, `${name} must be an integer of at least ${min}`, [name]);
  }
  return n;
}

/**
 * Every process that sends must hold the same key as those that register: in a distributed
 * deployment set REGISTRY_WEBHOOK_KEY; the generated file only serves processes sharing one data
 * directory (the embedded default).
 */
export function webhookSecretKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  const hex = env.REGISTRY_WEBHOOK_KEY;
  if (hex) {
    if (!/^[0-9a-f]{64}$/i.test(hex)) {
      throw new WebhookException(WebhookErrorCode.InvalidConfiguration, 'REGISTRY_WEBHOOK_KEY must be 64 hexadecimal characters (32 bytes)', [
        'REGISTRY_WEBHOOK_KEY',
      ]);
    }
    return Buffer.from(hex, 'hex');
  }
  return loadOrCreateSecret(join(dataDirFromEnv(env), 'keys', 'registry-webhook.key')).subarray(0, 32);
}

export function webhookConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const backoff: BackoffPolicy = {
    maxAttempts: int(env, 'REGISTRY_WEBHOOK_MAX_ATTEMPTS', DEFAULT_BACKOFF.maxAttempts, 1),
    baseMs: int(env, 'REGISTRY_WEBHOOK_BACKOFF_BASE_MS', DEFAULT_BACKOFF.baseMs, 0),
    capMs: int(env, 'REGISTRY_WEBHOOK_BACKOFF_CAP_MS', DEFAULT_BACKOFF.capMs, 0),
  };
  const problems = checkBackoffPolicy(backoff);
  if (problems.length > 0) {
    throw new WebhookException(WebhookErrorCode.InvalidConfiguration, `REGISTRY_WEBHOOK backoff: ${problems.join('; ')}`, ['REGISTRY_WEBHOOK_BACKOFF_CAP_MS']);
  }
  return {
    pollMs: int(env, 'REGISTRY_WEBHOOK_POLL_MS', 1000, 10),
    timeoutMs: int(env, 'REGISTRY_WEBHOOK_TIMEOUT_MS', 10_000, 100),
    concurrency: int(env, 'REGISTRY_WEBHOOK_CONCURRENCY', 4, 0),
    backoff,
    wakeOnLogs: [REGISTRY_LOG],
    secretKey: webhookSecretKeyFromEnv(env),
  };
}
