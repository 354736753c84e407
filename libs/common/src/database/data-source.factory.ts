import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  /** Apply pending migrations on initialize (the platform does; a read-only tool may not). */
  migrate?: boolean;
}

export async function createDataSource(options: DataSourceOptions): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url: options.url,
    migrations: MIGRATIONS,
    migrationsTableName: 'trellis_migrations',
    // A migration's DDL and its bookkeeping row commit together or not at all.
    migrationsTransactionMode: 'each',
    extra: { max: options.poolSize ?? 10 },
    logging: ['error'],
  });
  await ds.initialize();
  if (options.migrate ?? true) {
    // Replicas starting together on a fresh database take turns instead of racing the DDL.
    const lock = ds.createQueryRunner();
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['trellis:migrations']);
      await ds.runMigrations();
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', ['trellis:migrations']).catch(() => undefined);
      await lock.release();
    }
  }
  return ds;
}
