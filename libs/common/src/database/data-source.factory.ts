import { DataSource, MigrationExecutor, DataSourceOptions as TypeOrmOptions } from 'typeorm';
import { DatabaseTimeouts, databaseTimeoutsFromEnv } from './database.config';

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
    logging: ['error'],
  });
  await ds.initialize();
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
