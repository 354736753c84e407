import { DataSource, MigrationExecutor, DataSourceOptions as TypeOrmOptions } from 'typeorm';
import { SafeQueryLogger } from './safe-query.logger';
import { DatabaseTimeouts, databaseTimeoutsFromEnv } from './database.config';
import { holdsTransactionConnection } from './transaction';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  /**
   * The migrations this process applies on initialize. Each application hands in its own, so
   * that this library loads no service's schema (a read-only tool passes none).
   */
  migrations?: TypeOrmOptions['migrations'];
  /** Overrides of the timeouts from the environment (TRELLIS_DB_*_TIMEOUT_MS). */
  timeouts?: Partial<DatabaseTimeouts>;
  /**
   * Refuse a pool connection to code that already holds one in withTransaction (it must use the
   * transaction's QueryRunner), instead of letting it wait: a check for tests, on by default
   * where TRELLIS_DB_NESTED_ACQUIRE_CHECK=1.
   */
  refuseNestedAcquire?: boolean;
}

/** What the check above throws; the stack shows the code that asked. */
export class NestedAcquireError extends Error {
  constructor() {
    super('asked the pool for a connection while holding one in withTransaction: pass the transaction (QueryRunner) instead');
    this.name = 'NestedAcquireError';
  }
}

export async function createDataSource(options: DataSourceOptions): Promise<DataSource> {
  const timeouts = { ...databaseTimeoutsFromEnv(), ...options.timeouts };
  const ds = new DataSource({
    type: 'postgres',
    url: options.url,
    migrations: options.migrations ?? [],
    migrationsTableName: 'trellis_migrations',
    // A migration's DDL and its bookkeeping row commit together or not at all (ds.runMigrations;
    // createDataSource runs them itself, below, in the same mode).
    migrationsTransactionMode: 'each',
    extra: {
      max: options.poolSize ?? 10,
      // Session settings of every pool connection (0 leaves PostgreSQL's default, off).
      statement_timeout: timeouts.statementMs || undefined,
      lock_timeout: timeouts.lockMs || undefined,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs || undefined,
      connectionTimeoutMillis: timeouts.acquireMs || undefined,
    },
    // Failed queries are logged without their parameters or the driver's message (SafeQueryLogger).
    logging: ['error', 'warn', 'migration'],
    logger: new SafeQueryLogger(),
  });
  await ds.initialize();
  if (options.refuseNestedAcquire ?? process.env.TRELLIS_DB_NESTED_ACQUIRE_CHECK === '1') {
    // TypeORM takes every pool connection (DataSource.query, createQueryRunner().connect) here.
    const driver = ds.driver as unknown as { obtainMasterConnection(): Promise<unknown> };
    const obtain = driver.obtainMasterConnection.bind(driver);
    driver.obtainMasterConnection = () => (holdsTransactionConnection() ? Promise.reject(new NestedAcquireError()) : obtain());
  }
  if (options.migrations?.length) {
    // Replicas starting together on a fresh database take turns instead of racing the DDL.
    const lock = ds.createQueryRunner();
    await lock.connect();
    try {
      // Waiting for another replica's migrations, and a long migration, are not stuck requests.
      await lock.query('SET statement_timeout = 0');
      await lock.query('SET lock_timeout = 0');
      await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['trellis:migrations']);
      // On the connection that holds the lock: one that holds a connection never waits for another.
      const executor = new MigrationExecutor(ds, lock);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', ['trellis:migrations']).catch(() => undefined);
      // Back to the connection's own settings before it returns to the pool.
      await lock.query('RESET statement_timeout; RESET lock_timeout').catch(() => undefined);
      await lock.release();
    }
  }
  return ds;
}
