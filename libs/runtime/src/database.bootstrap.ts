import { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import {
  claimEmbeddedPostgres,
  createDataSource,
  DatabaseConfig,
  DatabaseMode,
  EmbeddedPostgresSupervisor,
  embeddedPostgresOwner,
  processAlive,
  startEmbeddedPostgres,
} from '@trellis/common';

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
 *
 * The process that starts the server owns it (`<dataDir>/postgres.owner`): it restarts the
 * server when it dies and stops it on close. A server whose owner is gone (a SIGKILLed
 * platform) is taken over the same way; one whose owner lives is left to it.
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
  // The port of the server this process owns, if it owns one.
  let ownedPort: number | undefined;
  let running = await runningClusterPort(config.dataDir);
  // A pid reused by an unrelated process after a crash: nothing listens there, so start it.
  if (typeof running === 'number' && !(await portOpen(running))) running = undefined;
  const password = async () => (await readFile(join(config.dataDir, 'postgres.password'), 'utf8').catch(() => '')).trim();
  if (typeof running === 'number') {
    const secret = await password();
    if (!secret)
      throw new Error(`the PostgreSQL of ${config.dataDir} runs on port ${running}, but ${join(config.dataDir, 'postgres.password')} is missing or unreadable`);
    url = `postgres://trellis:${encodeURIComponent(secret)}@127.0.0.1:${running}/trellis`;
    // 'self': this process connects a second time (tests do); the first connection owns it.
    if ((await embeddedPostgresOwner(config.dataDir)) !== 'none') {
      log(`using the embedded PostgreSQL already running on port ${running} (data in ${config.dataDir})`);
    } else {
      await claimEmbeddedPostgres(config.dataDir);
      ownedPort = running;
      log(`taking over the embedded PostgreSQL left running on port ${running} by a process that is gone (data in ${config.dataDir}); it stops with this one`);
    }
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
    ownedPort = config.embeddedPort;
  }
  const supervisor = ownedPort === undefined ? undefined : new EmbeddedPostgresSupervisor({ dataDir: config.dataDir, port: ownedPort }, { log });
  try {
    const dataSource = await createDataSource({ url, poolSize: config.poolSize, migrations });
    supervisor?.start();
    return {
      dataSource,
      mode: 'embedded',
      close: async () => {
        await dataSource.destroy();
        await supervisor?.stop();
      },
    };
  } catch (err) {
    // A failed start-up (a migration) must not leave the server it started behind.
    await supervisor?.stop();
    throw err;
  }
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
