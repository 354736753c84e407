import { resolve } from 'node:path';

export interface DatabaseConfig {
  /** Set when an external server is used; otherwise PostgreSQL is embedded. */
  url?: string;
  dataDir: string;
  embeddedPort: number;
  poolSize: number;
}

export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return {
    url: env.DATABASE_URL || undefined,
    dataDir: resolve(env.TRELLIS_DATA_DIR || resolve(process.cwd(), '.trellis', 'data')),
    embeddedPort: intFromEnv(env, 'TRELLIS_PG_PORT', 54329),
    poolSize: intFromEnv(env, 'TRELLIS_DB_POOL_SIZE', 10),
  };
}

/** An integer setting; `min` 0 allows 0 (e.g. "off"), the default 1 wants a positive one. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${name} must be ${min === 1 ? 'a positive integer' : `an integer of at least ${min}`}, got ${JSON.stringify(raw)}`);
  }
  return n;
}
