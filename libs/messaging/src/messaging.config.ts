import { intFromEnv } from '@trellis/common';
import type { RetryPolicy } from './inbox';

export interface MessagingConfig {
  /** `kafka` when KAFKA_BROKERS is set (the distributed profile), else `in-process`. */
  mode: 'in-process' | 'kafka';
  brokers: string[];
  clientId: string;
  partitions: number;
  replicationFactor: number;
  retry: RetryPolicy;
}

export function messagingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MessagingConfig {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const mode = env.TRELLIS_MESSAGING ?? (brokers.length ? 'kafka' : 'in-process');
  if (mode !== 'kafka' && mode !== 'in-process') throw new Error(`TRELLIS_MESSAGING must be kafka or in-process, got ${JSON.stringify(mode)}`);
  if (mode === 'kafka' && brokers.length === 0) throw new Error('TRELLIS_MESSAGING=kafka needs KAFKA_BROKERS (host:port[,host:port...])');
  return {
    mode,
    brokers,
    clientId: env.TRELLIS_KAFKA_CLIENT_ID || 'trellis',
    partitions: intFromEnv(env, 'TRELLIS_KAFKA_PARTITIONS', 3),
    replicationFactor: intFromEnv(env, 'TRELLIS_KAFKA_REPLICATION_FACTOR', 1),
    retry: {
      maxAttempts: intFromEnv(env, 'TRELLIS_HANDLER_MAX_ATTEMPTS', 5),
      retryDelayMs: intFromEnv(env, 'TRELLIS_HANDLER_RETRY_DELAY_MS', 200),
      maxRetryDelayMs: intFromEnv(env, 'TRELLIS_HANDLER_MAX_RETRY_DELAY_MS', 5000),
    },
  };
}
