/**
 * `npm run migration:run`: applies the pending schema migrations and exits, for operators who
 * migrate before rolling out new service processes (the services also migrate at start-up,
 * taking turns through an advisory lock). Uses DATABASE_URL, or the embedded PostgreSQL under
 * TRELLIS_DATA_DIR (started for the duration if it is not running).
 */
import 'reflect-metadata';
import { databaseConfigFromEnv } from '@trellis/common';
import { connectDatabase } from '@trellis/runtime';
import { MIGRATIONS } from '../migrations';

async function main(): Promise<void> {
  const log = (m: string) => console.error(`[trellis] ${m}`);
  const db = await connectDatabase(databaseConfigFromEnv(), log, MIGRATIONS);
  try {
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM trellis_migrations');
    console.log(`schema up to date: ${n} of ${MIGRATIONS.length} migrations applied`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(`migration:run: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
