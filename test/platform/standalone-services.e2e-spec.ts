import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, freePort } from '@trellis/testing';

const ROOT = join(__dirname, '..', '..');

/** `npm run <script>` as the README writes it, in its own process group so that a stop reaches every process. */
function npmRun(script: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn('npm', ['run', script], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // 'close', not 'exit': npm may exit on the signal before the service it started has written its
  // shutdown lines; the pipes close only when every process holding them (npm, sh, node) is gone.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

// The README's "Each service also runs alone" commands, run as written against the test database.
describe.each([
  ['start:ingestion', 'Trellis ingestion', '/ingestion/datasets'],
  ['start:annotation', 'Trellis annotation', '/annotation/projects'],
  ['start:trainer', 'Trellis trainer', '/training/runs'],
  ['start:registry', 'Trellis registry', '/registry/models'],
  // The lineage service's API is GraphQL; its REST document has the OpenLineage export.
  ['start:lineage', 'Trellis lineage', '/lineage/openlineage/runs'],
])('npm run %s', (script, title, route) => {
  it('serves /health, /docs-json and its API, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const run = npmRun(script, { PORT: String(port), DATABASE_URL: process.env.TRELLIS_TEST_DATABASE_URL, TRELLIS_MESSAGING: 'in-process' });
    try {
      const health = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
          return res?.status === 200 && ((await res.json()) as { status: string });
        },
        240_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${run.output()}`);
      });
      expect(['up', 'degraded']).toContain(health.status);
      const docs = (await (await fetch(`http://127.0.0.1:${port}/docs-json`)).json()) as { info: { title: string }; paths: Record<string, unknown> };
      expect(docs.info.title).toBe(title);
      expect(Object.keys(docs.paths)).toContain(route);
      // Its API answers, behind authentication.
      expect((await fetch(`http://127.0.0.1:${port}/auth/whoami`)).status).toBe(401);
    } finally {
      process.kill(-run.child.pid!, 'SIGTERM');
    }
    const code = await run.exited;
    expect(run.output()).toMatch(/SIGTERM: shutting down/);
    expect(code === 0 || code === null).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 300_000);
});

// The README's first command: the whole platform on its embedded default (its own PostgreSQL).
describe('npm start', () => {
  it('runs every service on an embedded PostgreSQL in the chosen data directory, serves /health and /graphql, and stops it all on SIGTERM', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const dataDir = join(ROOT, '.trellis', 'test-data', `npm-start-${port}`);
    const run = npmRun('start', {
      PORT: String(port),
      TRELLIS_DATA_DIR: dataDir,
      TRELLIS_PG_PORT: String(pgPort),
      DATABASE_URL: '',
      KAFKA_BROKERS: '',
      S3_ENDPOINT: '',
    });
    try {
      const health = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
          return res?.status === 200 && ((await res.json()) as { components: { database: { mode: string }; messaging: { mode?: string } } });
        },
        240_000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${run.output()}`);
      });
      expect(health.components.database.mode).toBe('embedded');
      const gql = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ eventLogs { log } }' }),
      });
      expect(((await gql.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      process.kill(-run.child.pid!, 'SIGTERM');
    }
    await run.exited;
    expect(run.output()).toMatch(/SIGTERM: shutting down/);
    // The embedded PostgreSQL stopped with it: its pid file is gone.
    await eventually(async () => !existsSync(join(dataDir, 'postgres', 'postmaster.pid')), 30_000);
  }, 300_000);
});
