import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually, freePort } from '@trellis/testing';
import { checkJourney, createToken, expectLineageEqualsReplay, withdrawnSubjectOf } from '../journey/journey-checks';

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['ingestion', 'annotation', 'trainer', 'registry', 'lineage'];

/** A base port with base .. base+6 free (the launcher's gateway and five services, and a second lineage process). */
async function freeBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const all = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => free(base + i)));
    if (all.every(Boolean)) return base;
  }
}

// Issue 17, item 3: the README's `npm run start:distributed`, as written: five service processes
// over real Kafka and S3 (those the test set-up runs, found by infra/ as already running) and an
// embedded PostgreSQL that the first service starts; events cross processes; a second lineage
// process shares the work through its consumer group; the demo's journey runs through the
// gateway while each service in turn is killed with SIGKILL and started again, and finishes with
// nothing lost or doubled; Ctrl-C stops all.
describe('npm run start:distributed', () => {
  let launcher: ChildProcess | undefined;
  let replica: ChildProcess | undefined;
  let output = '';
  let dataDir: string;

  /**
   * `npm run start:distributed` as the README writes it, in its own process group, with Kafka and S3
   * named by port, not URL (the launcher asks infra/, which finds the suite's running), the embedded
   * PostgreSQL in dataDir, and the gateway on `base`; resolves once all five services are up.
   */
  async function startLauncher(base: number, extra: Record<string, string> = {}): Promise<{ env: NodeJS.ProcessEnv; closed: Promise<number | null> }> {
    dataDir ??= mkdtempSync(join(ROOT, '.trellis', 'test-data', 'distributed-'));
    const env = {
      ...process.env,
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_PG_PORT: String(await freePort()),
      TRELLIS_PORT_BASE: String(base),
      KAFKA_BROKERS: '',
      S3_ENDPOINT: '',
      DATABASE_URL: '',
      TRELLIS_MESSAGING: '',
      ...extra,
    };
    output = '';
    const started = spawn('npm', ['run', 'start:distributed'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher = started;
    started.stdout!.on('data', (d) => (output += d));
    started.stderr!.on('data', (d) => (output += d));
    const closed = new Promise<number | null>((resolve) => started.once('close', (code) => resolve(code)));
    await eventually(async () => output.includes('all five services are up'), 420_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
    return { env, closed };
  }

  afterAll(async () => {
    if (replica?.pid && replica.exitCode === null && replica.signalCode === null) process.kill(-replica.pid, 'SIGKILL');
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

  it('runs the five services as five processes over Kafka and S3, carries an event across them, survives SIGKILL of each during the journey, and stops them all on SIGINT', async () => {
    const suite = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, S3_ENDPOINT: process.env.S3_ENDPOINT };
    const base = await freeBase();
    // A killed trainer's run and a killed registry's evaluation are taken over once their lease lapses.
    const { env, closed } = await startLauncher(base, { TRAINER_LEASE_SECONDS: '8', REGISTRY_EVALUATION_LEASE_SECONDS: '8' });
    // Kafka and S3 were running: the launcher says so and will not stop them.
    expect(output).not.toMatch(/\[kafka\] started|\[s3\] started/);
    // Each on Kafka; a service answers /health while its Kafka clients may still be connecting.
    for (const [i, name] of SERVICES.entries()) {
      const messaging = await eventually(
        async () => {
          const health = (await (await fetch(`http://127.0.0.1:${base + 1 + i}/health`)).json()) as {
            components: { messaging: { mode: string; broker: { reachable: boolean } } };
          };
          return health.components.messaging.broker.reachable ? health.components.messaging : undefined;
        },
        60_000,
        500,
      );
      expect([name, messaging.mode]).toEqual([name, 'kafka']);
    }
    // Five processes, one per service.
    expect(new Set([...output.matchAll(/\[(\w+)\] .*Trellis (\w+) listening on/g)].map((m) => m[1]))).toEqual(new Set(SERVICES));

    // A token from the data directory (the embedded PostgreSQL the first service owns) ...
    const token = createToken(env, 'steward,auditor', 'distributed');
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

    // A second lineage process, started as the README starts one service alone: the two share
    // the partitions of each topic they consume through the group 'lineage'.
    const health = async (port: number) =>
      (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
        components: { messaging: { consumers: { consumer: string; context: string; partitions?: number[] }[] } };
      };
    const ingestionPartitions = async (port: number) =>
      (await health(port)).components.messaging.consumers.find((c) => c.consumer === 'lineage' && c.context === 'ingestion')?.partitions ?? [];
    replica = spawn('npm', ['run', 'start:lineage'], {
      cwd: ROOT,
      env: { ...env, ...suite, S3_ACCESS_KEY: 'trellis', S3_SECRET_KEY: 'trellis-secret', TRELLIS_MESSAGING: 'kafka', PORT: String(base + 6) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let replicaOutput = '';
    replica.stdout!.on('data', (d) => (replicaOutput += d));
    replica.stderr!.on('data', (d) => (replicaOutput += d));
    const split = await eventually(
      async () => {
        const [a, b] = await Promise.all([ingestionPartitions(base + 5), ingestionPartitions(base + 6).catch(() => [] as number[])]);
        return a.length > 0 && b.length > 0 && a.length + b.length === 3 ? [a, b] : undefined;
      },
      180_000,
      1000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${replicaOutput}`);
    });
    expect([...split[0], ...split[1]].sort()).toEqual([0, 1, 2]);

    // The demo's journey through the gateway, with each service killed (SIGKILL) once on the way;
    // the launcher starts each again.
    const gateway = `http://127.0.0.1:${base}`;
    const demo = spawn('npm', ['run', 'trellis', '--', 'demo', '--patience', '300'], {
      cwd: ROOT,
      env: { ...env, TRELLIS_URL: gateway, TRELLIS_TOKEN: createToken(env, 'admin', 'demo') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let demoOut = '';
    let demoErr = '';
    demo.stdout!.on('data', (d) => (demoOut += d));
    demo.stderr!.on('data', (d) => (demoErr += d));
    const demoExit = new Promise<number | null>((resolve) => demo.once('close', (code) => resolve(code)));
    const pidOf = (name: string) => Number([...output.matchAll(new RegExp(`started ${name} \\(pid (\\d+)\\)`, 'g'))].pop()![1]);
    const killed: string[] = [];
    const kill = (name: string) => {
      process.kill(pidOf(name), 'SIGKILL');
      killed.push(name);
    };
    // When each step begins, the service it leans on goes down (the trainer a moment into its run).
    const plan: [RegExp, string, number][] = [
      [/\n2\. /, 'ingestion', 0],
      [/\n3\. /, 'annotation', 1500],
      [/LoRA run \S+ requested/, 'trainer', 4000],
      [/\n5\. /, 'registry', 500],
      [/\n7\. /, 'lineage', 0],
    ];
    for (const [marker, name, delay] of plan) {
      await eventually(async () => marker.test(demoOut) || demo.exitCode !== null, 600_000, 100);
      if (demo.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, delay));
      kill(name);
    }
    const code = await Promise.race([demoExit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 600_000))]);
    expect([code, `${demoOut}\n${demoErr.split('\n').slice(-20).join('\n')}`]).toEqual([0, expect.anything()]);
    expect(killed).toEqual(SERVICES);
    for (const name of SERVICES) expect(output).toMatch(new RegExp(`\\[distributed\\] ${name} exited \\(SIGKILL\\); starting it again`));
    // Every service answers again (the gateway's /health asks all five).
    await eventually(async () => (await fetch(`${gateway}/health`)).status === 200, 180_000, 1000);
    // The subject registered above is one more.
    await checkJourney(gateway, createToken(env, 'steward,engineer,auditor', 'checks'), withdrawnSubjectOf(demoOut), 1);
    // The web console is served in this profile too, through the gateway (the launcher's set-up built it).
    const consolePage = await fetch(`${gateway}/console`);
    expect([consolePage.status, consolePage.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(await consolePage.text())![1];
    const scriptRes = await fetch(`${gateway}${script}`);
    expect([scriptRes.status, scriptRes.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    // The lineage graph, fed by two processes over Kafka through kills, equals a replay of the logs
    // once its consumers have caught up (the replay reads up to each log's head now: a consumer
    // still behind, after the restarts, would differ by the events it has yet to handle).
    await eventually(
      async () => {
        const health = (await (await fetch(`http://127.0.0.1:${base + 5}/health`)).json()) as {
          components: { messaging: { consumers: { lag: number | null }[] } };
        };
        const consumers = health.components.messaging.consumers;
        return consumers.length > 0 && consumers.every((c) => c.lag === 0 || c.lag === null) && consumers.some((c) => c.lag === 0);
      },
      120_000,
      500,
    );
    expectLineageEqualsReplay({ ...env, ...suite, S3_ACCESS_KEY: 'trellis', S3_SECRET_KEY: 'trellis-secret' });
    process.kill(-replica.pid!, 'SIGTERM');

    // As a terminal's Ctrl-C: SIGINT to the foreground group (npm and the launcher). npm itself
    // ends by the signal (null) or with the launcher's code (0).
    process.kill(-launcher!.pid!, 'SIGINT');
    expect([0, null]).toContain(await closed);
    expect(output).toMatch(/\[distributed\] stopped/);
    for (const name of SERVICES) expect(output).toMatch(new RegExp(`\\[${name}\\] .*SIGTERM: shutting down`));
    for (let i = 0; i <= 5; i++) await expect(fetch(`http://127.0.0.1:${base + i}/health`)).rejects.toThrow();
  }, 1_500_000);

  it('stops its services when the launcher itself is killed with SIGKILL, leaving no port held', async () => {
    const base = await freeBase();
    await startLauncher(base);
    for (let i = 1; i <= 5; i++) expect((await fetch(`http://127.0.0.1:${base + i}/health`)).status).toBe(200);
    // npm and the launcher, which cannot handle this signal; the services run in their own groups.
    process.kill(-launcher!.pid!, 'SIGKILL');
    await eventually(
      async () => {
        const open = await Promise.all(
          [1, 2, 3, 4, 5].map((i) =>
            fetch(`http://127.0.0.1:${base + i}/health`).then(
              () => true,
              () => false,
            ),
          ),
        );
        return open.every((o) => !o);
      },
      120_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`services still listening after the launcher was killed: ${err.message}`);
    });
  }, 600_000);
});
