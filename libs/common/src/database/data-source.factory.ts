import { DataSource, DataSourceOptions as TypeOrmOptions } from 'typeorm';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  /**
   * The migrations this process applies on initialize. Each application hands in its own, so
   * that this library loads no service's schema (a read-only tool passes none).
   */
  migrations?: TypeOrmOptions['migrations'];
}

export async function createDataSource(options: DataSourceOptions): Promise<DataSource> {
  const ds = new DataSource({
    type: 'postgres',
    url: options.url,
    migrations: options.migrations ?? [],
    migrationsTableName: 'trellis_migrations',
    // A migration's DDL and its bookkeeping row commit together or not at all.
    migrationsTransactionMode: 'each',
    extra: { max: options.poolSize ?? 10 },
    logging: ['error'],
  });
  await ds.initialize();
  if (options.migrations?.length) {
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
