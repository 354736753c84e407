import { resolve } from 'node:path';

export interface DatabaseConfig {
  /** Set when an external server is used; otherwise PostgreSQL is embedded. */
  url?: string;
  dataDir: string;
  embeddedPort: number;
  poolSize: number;
}

/**
 * Bounds on how long one request may hold or wait for the database, so that a stuck request
 * fails (and frees its connection) instead of freezing every other one; 0 turns one off.
 */
export interface DatabaseTimeouts {
  /** A statement running longer is cancelled (PostgreSQL `statement_timeout`). */
  statementMs: number;
  /** Waiting longer for a lock (row, table or advisory) fails the statement (`lock_timeout`). */
  lockMs: number;
  /** A transaction left idle longer is ended by the server, its locks released (`idle_in_transaction_session_timeout`). */
  idleInTransactionMs: number;
  /** Waiting longer for a connection from the pool fails the request (pg `connectionTimeoutMillis`). */
  acquireMs: number;
}

export function databaseTimeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTimeouts {
  return {
    statementMs: intFromEnv(env, 'TRELLIS_DB_STATEMENT_TIMEOUT_MS', 60_000, 0),
    lockMs: intFromEnv(env, 'TRELLIS_DB_LOCK_TIMEOUT_MS', 30_000, 0),
    idleInTransactionMs: intFromEnv(env, 'TRELLIS_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 0),
    acquireMs: intFromEnv(env, 'TRELLIS_DB_ACQUIRE_TIMEOUT_MS', 30_000, 0),
  };
}

export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return {
    url: env.DATABASE_URL || undefined,
    dataDir: dataDirFromEnv(env),
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

/** TRELLIS_DATA_DIR, else `.trellis/data` under the working directory: where the embedded database, blobs and generated keys live. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TRELLIS_DATA_DIR || resolve(process.cwd(), '.trellis', 'data'));
}
