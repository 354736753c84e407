import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, freePort } from '@trellis/testing';
import { checkJourney, createToken, expectLineageEqualsReplay, withdrawnSubjectOf } from './journey-checks';

const ROOT = join(__dirname, '..', '..');

/** The README's line for the demo, as written. */
const DEMO_LINE = /^npm start -- --demo\b/m;

// Issue 17: the demo's journey through the public interfaces in the embedded profile, started as
// the README writes it (`npm start -- --demo`: one process, embedded PostgreSQL, in-process
// events, files on disk), then run a second time with `npm run trellis -- demo` against the
// running platform: nothing is done twice.
describe('npm start -- --demo (the embedded profile)', () => {
  let platform: ChildProcess | undefined;
  let output = '';
  let dataDir: string;

  afterAll(async () => {
    if (platform?.pid && platform.exitCode === null && platform.signalCode === null) {
      process.kill(-platform.pid, 'SIGINT');
      await eventually(async () => platform!.exitCode !== null || platform!.signalCode !== null, 60_000, 250).catch(() =>
        process.kill(-platform!.pid!, 'SIGKILL'),
      );
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it('walks the whole lifecycle, answers the auditor, and does nothing twice when run again', async () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(DEMO_LINE);
    dataDir = mkdtempSync(join(ROOT, '.trellis', 'test-data', 'demo-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The embedded default: none of the suite's PostgreSQL, Kafka or S3.
    const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_DATA_DIR: dataDir, PORT: String(port), TRELLIS_PG_PORT: String(await freePort()) };
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT', 'TRELLIS_MESSAGING']) delete env[name];
    const started = Date.now();
    platform = spawn('npm', ['start', '--', '--demo'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    platform.stdout!.on('data', (d) => (output += d));
    platform.stderr!.on('data', (d) => (output += d));
    await eventually(async () => /^demo (finished|failed)/m.test(output) || platform!.exitCode !== null, 300_000, 500);
    expect(output).toMatch(/^demo finished$/m);
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`npm start -- --demo: finished ${seconds} s after the command (build, start-up and the journey)\n`);
    // Every step's account, then the auditor's question and its answer.
    for (const step of [
      '1. People',
      '2. Subjects, consent',
      '3. Annotation',
      '4. A base model and a LoRA run',
      '5. Evaluation',
      '6. Promotion',
      '7. A subject withdraws',
      '8. The auditor asks',
    ])
      expect(output).toContain(`\n${step}`);
    expect(output).toMatch(/modelProvenance\(modelVersionId: \$id\)/);
    expect(output).toMatch(/"consentImpact": \{/);
    expect(output).toMatch(/rejected by the reviewer, \d+ adjudicated; agreement exact match/);
    expect(output).toMatch(/gate consent: pass/);
    expect(output).toMatch(/the engineer's own approval: refused \(403\)/);
    const withdrawn = withdrawnSubjectOf(output);

    // The auditor's token it printed works; the checks use one with more roles, from the data directory.
    const auditor = /TRELLIS_TOKEN=(trl_\S+)/.exec(output)![1];
    const whoami = await fetch(`${url}/auth/whoami`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(((await whoami.json()) as { roles: string[] }).roles).toEqual(['auditor']);
    const checker = createToken(env, 'steward,engineer,auditor', 'checks');
    await checkJourney(url, checker, withdrawn);

    // Again, as trellis demo against the running platform: every step finds its work done.
    const again = spawnSync('npm', ['run', 'trellis', '--', 'demo'], {
      cwd: ROOT,
      env: { ...env, TRELLIS_URL: url, TRELLIS_TOKEN: createToken(env, 'admin', 'again') },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect([again.status, again.stderr.split('\n').slice(-5).join('\n')]).toEqual([0, expect.anything()]);
    for (const reused of [
      'already in: trellis-demo v1',
      'already published as set v1',
      'already trained: trellis-demo-captioner v1',
      'evaluated already',
      'is champion already',
      'has withdrawn already',
    ])
      expect(again.stdout).toContain(reused);
    expect(withdrawnSubjectOf(again.stdout)).toBe(withdrawn);
    // And for scripts: the account on stderr, one JSON document on stdout.
    const json = spawnSync('npm', ['run', '-s', 'trellis', '--', 'demo', '--json'], {
      cwd: ROOT,
      env: { ...env, TRELLIS_URL: url, TRELLIS_TOKEN: createToken(env, 'admin', 'json') },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(json.status).toBe(0);
    expect(json.stderr).toContain('is champion already');
    const answer = JSON.parse(json.stdout) as {
      version: number;
      withdrawnSubjectId: string;
      provenance: { assets: number };
      impact: { modelVersions: { totalCount: number } };
    };
    expect(answer).toMatchObject({ version: 1, withdrawnSubjectId: withdrawn, impact: { modelVersions: { totalCount: 1 } } });
    expect(answer.provenance.assets).toBeGreaterThan(0);
    expect(json.stdout).not.toMatch(/trl_/);
    await checkJourney(url, checker, withdrawn);

    // The lineage projection equals a replay of every log: nothing lost or doubled there either.
    expectLineageEqualsReplay(env);
  }, 900_000);
});
