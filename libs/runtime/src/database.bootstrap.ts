import { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource, MixedList } from 'typeorm';
import { createDataSource, DatabaseConfig, DatabaseMode, startEmbeddedPostgres } from '@trellis/common';

export interface ConnectedDatabase {
  dataSource: DataSource;
  mode: DatabaseMode;
  close(): Promise<void>;
}

/**
 * DATABASE_URL wins; otherwise the embedded cluster under the data directory is used, started
 * here unless another Trellis process (the platform, when the token CLI runs) already serves it.
 */
export async function connectDatabase(
  config: DatabaseConfig,
  log: (m: string) => void,
  migrations: MixedList<Function> = [],
): Promise<ConnectedDatabase> {
  if (config.url) {
    const dataSource = await createDataSource({ url: config.url, poolSize: config.poolSize, migrations });
    return { dataSource, mode: 'external', close: () => dataSource.destroy() };
  }
  let url: string;
  let stopServer = async () => undefined as void;
  if (await portOpen(config.embeddedPort)) {
    const password = (await readFile(join(config.dataDir, 'postgres.password'), 'utf8').catch(() => '')).trim();
    if (!password) {
      throw new Error(
        `port ${config.embeddedPort} is in use by something that is not this data directory's embedded PostgreSQL; set TRELLIS_PG_PORT or DATABASE_URL`,
      );
    }
    url = `postgres://trellis:${encodeURIComponent(password)}@127.0.0.1:${config.embeddedPort}/trellis`;
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
