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

export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
