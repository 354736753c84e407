import 'reflect-metadata';
// Global set-up runs outside jest's module mapper: relative imports only, here and below.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, startEmbeddedPostgres } from '../../libs/common/src';
import { MIGRATIONS } from '../../migrations';

const root = join(__dirname, '..', '..');

/**
 * Starts the real services the int and e2e tiers talk to: PostgreSQL (embedded, in a fresh
 * cluster per run, unless TRELLIS_TEST_DATABASE_URL points at one), Apache Kafka and an S3
 * server through infra/. Workers learn the addresses from environment variables.
 */
export default async function globalSetup(): Promise<void> {
  const state: { stop: (() => Promise<void>)[] } = { stop: [] };
  (globalThis as { __TRELLIS_SERVICES__?: typeof state }).__TRELLIS_SERVICES__ = state;
  const dataDir = process.env.TRELLIS_TEST_DATA_DIR || join(root, '.trellis', 'test-data');

  if (!process.env.TRELLIS_TEST_DATABASE_URL) {
    const pgDir = join(dataDir, 'pg');
    await stopLeftoverCluster(join(pgDir, 'postgres'));
    rmSync(pgDir, { recursive: true, force: true });
    const pg = await startEmbeddedPostgres({
      dataDir: pgDir,
      port: Number(process.env.TRELLIS_TEST_PG_PORT || 54339),
      settings: { max_connections: '300' },
    });
    process.env.TRELLIS_TEST_DATABASE_URL = pg.url;
    state.stop.push(() => pg.stop());
  }
  const ds = await createDataSource({ url: process.env.TRELLIS_TEST_DATABASE_URL!, migrations: MIGRATIONS });
  await ds.destroy();

  const infraEnv = {
    ...process.env,
    TRELLIS_DATA_DIR: dataDir,
    KAFKA_PORT: process.env.KAFKA_PORT || '19092',
    KAFKA_CONTROLLER_PORT: process.env.KAFKA_CONTROLLER_PORT || '19093',
    S3_PORT: process.env.S3_PORT || '18333',
  };
  // TRELLIS_TEST_SERVICES narrows what is started while iterating on PostgreSQL-only code;
  // `npm test` always starts both.
  const services = (process.env.TRELLIS_TEST_SERVICES ?? 'kafka,s3').split(',').filter(Boolean);
  for (const service of services) {
    if (service !== 'kafka' && service !== 's3') throw new Error(`TRELLIS_TEST_SERVICES: unknown service ${service}`);
    const script = join(root, 'infra', `${service}.sh`);
    const alreadyRunning = spawnSync('bash', [script, 'status'], { env: infraEnv, stdio: 'ignore' }).status === 0;
    execFileSync('bash', [script, 'start'], { env: infraEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    if (!alreadyRunning) {
      state.stop.push(async () => {
        execFileSync('bash', [script, 'stop'], { env: infraEnv, stdio: ['ignore', 'inherit', 'inherit'] });
      });
    }
  }
  process.env.KAFKA_BROKERS = `127.0.0.1:${infraEnv.KAFKA_PORT}`;
  process.env.S3_ENDPOINT = `http://127.0.0.1:${infraEnv.S3_PORT}`;
  process.env.S3_ACCESS_KEY = process.env.S3_ACCESS_KEY || 'trellis';
  process.env.S3_SECRET_KEY = process.env.S3_SECRET_KEY || 'trellis-secret';
  process.env.TRELLIS_INFRA_DATA_DIR = dataDir;
  process.env.KAFKA_CONTROLLER_PORT = infraEnv.KAFKA_CONTROLLER_PORT;
  process.env.KAFKA_PORT = infraEnv.KAFKA_PORT;
  process.env.S3_PORT = infraEnv.S3_PORT;
}

/** A run that was killed (Ctrl-C, a closed pipe) leaves its cluster running: stop it first. */
async function stopLeftoverCluster(clusterDir: string): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const isPostgres = (): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
    } catch {
      return false;
    }
  };
  if (!pid || !isPostgres()) return;
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 100 && isPostgres(); i++) await new Promise((r) => setTimeout(r, 100));
}
