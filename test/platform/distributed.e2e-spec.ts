import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually, freePort } from '@trellis/testing';

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['ingestion', 'annotation', 'trainer', 'registry', 'lineage'];

/** A base port with base+1 .. base+5 free (the launcher's five services). */
async function freeBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const all = await Promise.all([1, 2, 3, 4, 5].map((i) => free(base + i)));
    if (all.every(Boolean)) return base;
  }
}

// Issue 17, item 3: the README's `npm run start:distributed`, as written: five service processes
// over real Kafka and S3 (those the test set-up runs, found by infra/ as already running) and an
// embedded PostgreSQL that the first service starts; events cross processes; Ctrl-C stops all.
describe('npm run start:distributed', () => {
  let launcher: ChildProcess | undefined;
  let output = '';
  let dataDir: string;

  afterAll(async () => {
    // After a failed run: ask the launcher to stop its services (they run in their own process
    // groups), then make sure nothing of it is left.
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-launcher!.pid!, sig);
      } catch {
        // already gone
      }
    };
    if (launcher?.pid && launcher.exitCode === null && launcher.signalCode === null) {
      signal('SIGINT');
      await eventually(async () => launcher!.exitCode !== null || launcher!.signalCode !== null, 60_000, 250).catch(() => signal('SIGKILL'));
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it('runs the five services as five processes over Kafka and S3, carries an event across them, and stops them all on SIGINT', async () => {
    dataDir = mkdtempSync(join(ROOT, '.trellis', 'test-data', 'distributed-'));
    const base = await freeBase();
    const env = {
      ...process.env,
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_PG_PORT: String(await freePort()),
      TRELLIS_PORT_BASE: String(base),
      // Kafka and S3 by port, not URL: the launcher asks infra/ (they already run for the suite).
      KAFKA_BROKERS: '',
      S3_ENDPOINT: '',
      DATABASE_URL: '',
      TRELLIS_MESSAGING: '',
    };
    launcher = spawn('npm', ['run', 'start:distributed'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.stdout!.on('data', (d) => (output += d));
    launcher.stderr!.on('data', (d) => (output += d));
    const closed = new Promise<number | null>((resolve) => launcher!.once('close', (code) => resolve(code)));

    await eventually(async () => output.includes('all five services are up'), 420_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
    // Kafka and S3 were running: the launcher says so and will not stop them.
    expect(output).not.toMatch(/\[kafka\] started|\[s3\] started/);
    for (const [i, name] of SERVICES.entries()) {
      const health = (await (await fetch(`http://127.0.0.1:${base + 1 + i}/health`)).json()) as {
        status: string;
        components: { messaging: { mode: string; broker: { reachable: boolean } } };
      };
      expect([name, health.components.messaging.mode, health.components.messaging.broker.reachable]).toEqual([name, 'kafka', true]);
    }
    // Five processes, one per service.
    expect(new Set([...output.matchAll(/\[(\w+)\] .*Trellis (\w+) listening on/g)].map((m) => m[1]))).toEqual(new Set(SERVICES));

    // A token from the data directory (the embedded PostgreSQL the first service owns) ...
    const created = spawnSync(process.execPath, ['bin/trellis.js', 'token', 'create', '--roles', 'steward,auditor', '--label', 'distributed'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect(created.status).toBe(0);
    const token = created.stdout.trim().split('\n').pop()!;
    expect(token).toMatch(/^trl_/);
    // ... a subject registered with the ingestion process reaches the lineage process over Kafka.
    const res = await fetch(`http://127.0.0.1:${base + 1}/ingestion/subjects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ externalRef: `distributed-${Date.now()}` }),
    });
    expect(res.status).toBe(201);
    const { subjectId } = (await res.json()) as { subjectId: string };
    const node = await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${base + 5}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: `{ node(id: "subject:${subjectId}") { id type } }` }),
        });
        return ((await r.json()) as { data?: { node: { id: string; type: string } | null } }).data?.node ?? undefined;
      },
      120_000,
      500,
    );
    expect(node).toEqual({ id: `subject:${subjectId}`, type: 'subject' });

    // As a terminal's Ctrl-C: SIGINT to the foreground group (npm and the launcher). npm itself
    // ends by the signal (null) or with the launcher's code (0).
    process.kill(-launcher.pid!, 'SIGINT');
    expect([0, null]).toContain(await closed);
    expect(output).toMatch(/\[distributed\] stopped/);
    for (const name of SERVICES) expect(output).toMatch(new RegExp(`\\[${name}\\] .*SIGTERM: shutting down`));
    for (let i = 1; i <= 5; i++) await expect(fetch(`http://127.0.0.1:${base + i}/health`)).rejects.toThrow();
  }, 600_000);
});
