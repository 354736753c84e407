import { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { postmasterPid, processAlive, stopEmbeddedPostgres } from '@trellis/common';
import { connectDatabase } from '@trellis/runtime';
import { eventually, freePort, spawnTs, waitForExit } from '@trellis/testing';

const ROOT = join(__dirname, '..', '..');
const JWT_SECRET = 'issue-11-item-9-supervision-secret-0123456789';

/** Every process whose working directory is the cluster: PostgreSQL's postmaster and backends all chdir there. */
function postgresProcessesOf(clusterDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === clusterDir) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

interface Platform {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `npm start`'s entry point in a child process, on its own data directory and ports. */
async function startPlatform(dataDir: string, pgPort: number): Promise<Platform> {
  const port = await freePort();
  const child = spawnTs('services/platform/src/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    TRELLIS_DATA_DIR: dataDir,
    TRELLIS_PG_PORT: String(pgPort),
    DATABASE_URL: '',
    KAFKA_BROKERS: '',
    TRELLIS_MESSAGING: 'in-process',
    S3_ENDPOINT: '',
    TRELLIS_JWT_SECRET: JWT_SECRET,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = waitForExit(child).then((code) => {
    throw new Error(`the platform exited with ${code} before listening:\n${output}`);
  });
  const listening = eventually(async () => output.includes('Trellis platform listening on'), 240_000, 250).catch((err: Error) => {
    throw new Error(`${err.message}\n${output}`);
  });
  await Promise.race([listening, exited]);
  exited.catch(() => undefined);
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

async function stopPlatform(p: Platform | undefined, signal: NodeJS.Signals): Promise<number | null> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return p?.child.exitCode ?? null;
  p.child.kill(signal);
  return waitForExit(p.child);
}

describe('issue 11 item 9: the embedded PostgreSQL does not outlive the platform, and is restarted when it dies', () => {
  const base = join(ROOT, '.trellis', 'test-data');
  const dirs: string[] = [];
  const running: Platform[] = [];

  function dataDir(): string {
    mkdirSync(base, { recursive: true });
    const dir = mkdtempSync(join(base, 'pg-supervision-'));
    dirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    for (const p of running) await stopPlatform(p, 'SIGKILL');
    for (const dir of dirs) {
      await stopEmbeddedPostgres(dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a start after a SIGKILL takes over the orphaned server, and the next clean stop stops it', async () => {
    const dir = dataDir();
    const clusterDir = resolve(dir, 'postgres');
    const first = await startPlatform(dir, 54401);
    running.push(first);
    const orphan = await postmasterPid(dir);
    expect(orphan).toBeDefined();

    await stopPlatform(first, 'SIGKILL');
    // What the issue found: the server outlives the platform.
    expect(processAlive(orphan!)).toBe(true);

    const second = await startPlatform(dir, 54401);
    running.push(second);
    expect(second.output()).toMatch(/taking over the embedded PostgreSQL left running on port 54401/);
    expect((await (await fetch(`${second.url}/health`)).json()) as { status: string }).toMatchObject({ status: 'up' });
    expect(await postmasterPid(dir)).toBe(orphan);

    // Another process next to the live owner (as the token CLI is) uses the server and leaves it running.
    const logged: string[] = [];
    const neighbour = await connectDatabase({ dataDir: dir, embeddedPort: 54401, poolSize: 1 }, (m) => logged.push(m));
    expect(await neighbour.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await neighbour.close();
    expect(logged.join('\n')).toMatch(/using the embedded PostgreSQL already running on port 54401/);
    expect(processAlive(orphan!)).toBe(true);

    expect(await stopPlatform(second, 'SIGTERM')).toBe(0);
    expect(processAlive(orphan!)).toBe(false);
    // Backends exit before their postmaster does; allow the kernel a moment to reap them.
    await eventually(async () => postgresProcessesOf(clusterDir).length === 0, 10_000, 100).catch(() => {
      throw new Error(`PostgreSQL processes of ${clusterDir} left: ${postgresProcessesOf(clusterDir).join(', ')}`);
    });
  }, 600_000);

  it('restarts a killed postmaster under load: 503 with Retry-After meanwhile, never 500, every acknowledged write kept', async () => {
    const dir = dataDir();
    const clusterDir = resolve(dir, 'postgres');
    const platform = await startPlatform(dir, 54402);
    running.push(platform);
    const admin = jwt.sign({ sub: 'issue-11-item-9-admin', roles: ['admin'] }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
    const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };

    const acknowledged: string[] = [];
    const refused: { status: number; retryAfter: string | null; body: string; at: number }[] = [];
    let killedAt = Number.POSITIVE_INFINITY;
    let ackedAfterOutage = 0;
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const i = n++;
        const res = await fetch(`${platform.url}/auth/tokens`, { method: 'POST', headers, body: JSON.stringify({ label: `load ${i}`, roles: ['steward'] }) });
        const body = await res.text();
        if (res.status >= 200 && res.status < 300) {
          acknowledged.push((JSON.parse(body) as { tokenId: string }).tokenId);
          if (refused.some((r) => r.at > killedAt)) ackedAfterOutage++;
        } else {
          refused.push({ status: res.status, retryAfter: res.headers.get('retry-after'), body, at: Date.now() });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());

    await eventually(async () => acknowledged.length >= 20, 60_000, 50);
    const postmaster = (await postmasterPid(dir))!;
    killedAt = Date.now();
    process.kill(postmaster, 'SIGKILL');
    // Until the restart has been answered by a run of acknowledged writes.
    await eventually(async () => ackedAfterOutage >= 20, 120_000, 100).catch((err: Error) => {
      stop = true;
      throw new Error(`${err.message}; refused: ${JSON.stringify(refused.slice(-5))}\n${platform.output().slice(-4000)}`);
    });
    stop = true;
    await Promise.all(workers);

    expect(refused.length).toBeGreaterThan(0);
    const wrong = refused.filter((r) => r.status !== 503 || !(Number(r.retryAfter) > 0));
    if (wrong.length > 0) {
      const errors = platform
        .output()
        .split('\n')
        .filter((l) => /ERROR|WARN/.test(l))
        .slice(0, 40);
      throw new Error(
        `${wrong.length} of ${refused.length} refusals were not 503 with Retry-After: ${JSON.stringify(wrong.slice(0, 5))}\n${errors.join('\n')}`,
      );
    }
    const restarted = (await postmasterPid(dir))!;
    expect(restarted).not.toBe(postmaster);
    expect(processAlive(restarted)).toBe(true);
    expect(platform.output()).toMatch(/the embedded PostgreSQL on port 54402 runs again/);

    // Every write acknowledged before, during and after the outage is there.
    const missing = async () => {
      const listed = (await (await fetch(`${platform.url}/auth/tokens`, { headers })).json()) as { tokenId: string }[];
      const ids = new Set(listed.map((t) => t.tokenId));
      return acknowledged.filter((id) => !ids.has(id));
    };
    await eventually(async () => (await missing()).length === 0, 30_000, 250).catch(() => undefined);
    expect(await missing()).toEqual([]);

    // LISTEN is back and the in-process consumers caught up with the log.
    await eventually(
      async () => {
        const res = await fetch(`${platform.url}/health`);
        const health = (await res.json()) as {
          components: { notifications: { status: string }; messaging: { status: string; consumers: { lag: number; lastError?: string }[] } };
        };
        return (
          res.status === 200 &&
          health.components.notifications.status === 'up' &&
          health.components.messaging.status === 'up' &&
          health.components.messaging.consumers.every((c) => c.lag === 0 && !c.lastError)
        );
      },
      30_000,
      250,
    );

    expect(await stopPlatform(platform, 'SIGTERM')).toBe(0);
    await eventually(async () => postgresProcessesOf(clusterDir).length === 0, 10_000, 100);
  }, 600_000);
});
