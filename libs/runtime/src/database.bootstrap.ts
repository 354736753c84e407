import { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { createDataSource, DatabaseConfig, DatabaseMode, startEmbeddedPostgres } from '@trellis/common';

export interface ConnectedDatabase {
  dataSource: DataSource;
  mode: DatabaseMode;
  close(): Promise<void>;
}

/**
 * DATABASE_URL wins; otherwise the embedded cluster under the data directory is used, started
 * here unless another Trellis process (the platform, when the token CLI runs) already serves it.
 * A running cluster is found from its data directory, on whatever port it was started with, so
 * the token CLI needs no TRELLIS_PG_PORT to reach a platform started with one.
 */
export async function connectDatabase(
  config: DatabaseConfig,
  log: (m: string) => void,
  migrations: DataSourceOptions['migrations'] = [],
): Promise<ConnectedDatabase> {
  if (config.url) {
    const dataSource = await createDataSource({ url: config.url, poolSize: config.poolSize, migrations });
    return { dataSource, mode: 'external', close: () => dataSource.destroy() };
  }
  let url: string;
  let stopServer = async () => undefined as void;
  let running = await runningClusterPort(config.dataDir);
  // A pid reused by an unrelated process after a crash: nothing listens there, so start it.
  if (typeof running === 'number' && !(await portOpen(running))) running = undefined;
  const password = async () => (await readFile(join(config.dataDir, 'postgres.password'), 'utf8').catch(() => '')).trim();
  if (typeof running === 'number') {
    const secret = await password();
    if (!secret)
      throw new Error(`the PostgreSQL of ${config.dataDir} runs on port ${running}, but ${join(config.dataDir, 'postgres.password')} is missing or unreadable`);
    url = `postgres://trellis:${encodeURIComponent(secret)}@127.0.0.1:${running}/trellis`;
    log(`using the embedded PostgreSQL already running on port ${running} (data in ${config.dataDir})`);
  } else if (await portOpen(config.embeddedPort)) {
    // Without a readable postmaster.pid we cannot tell whose server this is: trust the password
    // file as before; with one that says the cluster is down, the port belongs to someone else.
    const secret = running === 'unknown' ? await password() : '';
    if (!secret) {
      throw new Error(
        `port ${config.embeddedPort} is in use by another server, not the embedded PostgreSQL of ${config.dataDir}; set TRELLIS_PG_PORT to a free port, or DATABASE_URL`,
      );
    }
    url = `postgres://trellis:${encodeURIComponent(secret)}@127.0.0.1:${config.embeddedPort}/trellis`;
    log(`using the embedded PostgreSQL already running on port ${config.embeddedPort}`);
  } else {
    log(`starting embedded PostgreSQL on port ${config.embeddedPort} (data in ${config.dataDir})`);
    const pg = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPort });
    url = pg.url;
    stopServer = () => pg.stop();
  }
  const dataSource = await createDataSource({ url, poolSize: config.poolSize, migrations });
  return {
    dataSource,
    mode: 'embedded',
    close: async () => {
      await dataSource.destroy();
      await stopServer();
    },
  };
}

/**
 * The port of the PostgreSQL serving `<dataDir>/postgres`, from its postmaster.pid (line 1 the
 * pid, line 4 the port) when that process is alive; `undefined` when the cluster is not
 * running; 'unknown' when the file exists but cannot be read (another user's cluster).
 */
export async function runningClusterPort(dataDir: string): Promise<number | undefined | 'unknown'> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unknown';
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  return processAlive(pid) ? port : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but run by another user (the postgres system user when the platform runs as root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}
