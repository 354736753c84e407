import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { eventually, freePort, uniqueName } from '@trellis/testing';
import { CLI_COMMANDS } from '../../services/platform/src/cli/cli-commands';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { publishSyntheticSets } from '../trainer/trainer-fixture';

const ROOT = join(__dirname, '..', '..');

/**
 * The CLI commands the README documents, as written there: every line of a ```bash block that
 * runs the CLI, with its continuation lines. The test runs each of them through bash, with
 * only the placeholders (DATASET_ID, PROJECT_ID, /path/to/trellis) filled in, so the README
 * and the CLI cannot drift apart.
 */
function readmeCommands(): string[] {
  const commands: string[] = [];
  for (const block of readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```bash\n([\s\S]*?)```/g)) {
    const lines = block[1].split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^(npm run trellis|npm run token|npx trellis|npm --prefix \S+ run trellis)\b/.test(lines[i])) continue;
      let command = lines[i];
      while (command.trimEnd().endsWith('\\')) command += `\n${lines[++i]}`;
      commands.push(command);
    }
  }
  return commands;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a shell command as a user would type it. Asynchronous on purpose: the platform under
 * test serves from this process, so a blocking spawn would starve it.
 */
function sh(command: string, options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  // A user's shell, not jest's npm environment: npm would otherwise inherit INIT_CWD and npm_* settings.
  const env = Object.fromEntries(
    Object.entries({ ...process.env, ...options.env }).filter(([k, v]) => v !== undefined && !k.startsWith('npm_') && k !== 'INIT_CWD'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stdout without npm's banner ("> trellis@0.1.0 trellis" and the command line). */
const output = (r: Run) =>
  r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('> ') && l.trim() !== '')
    .join('\n');

/** The last line on stderr: the command's own, after any build messages. */
const lastLine = (r: Run) => r.stderr.trim().split('\n').pop();

/** Asserts the exit code, showing the whole run when it differs. */
function exits(r: Run, code: number): void {
  if (r.code !== code) throw new Error(`expected exit code ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

describe('the trellis CLI as the README documents it', () => {
  let t: PlatformTestApp;
  let url: string;
  const tokens: Record<string, string> = {};
  const documented = readmeCommands();
  const ran = new Set<string>();
  let work: string;
  let outside: string;
  const saved = { S3_ENDPOINT: process.env.S3_ENDPOINT, TRELLIS_DATA_DIR: process.env.TRELLIS_DATA_DIR };

  /** The README command that matches (written once, or the same in several places), marked as run. */
  const readme = (pattern: RegExp): string => {
    const found = documented.filter((c) => pattern.test(c));
    const distinct = new Set(found.map((c) => c.replace(/\s+#.*$/, '')));
    if (distinct.size !== 1) throw new Error(`expected one README command matching ${pattern}, found ${found.length}: ${found.join(' | ')}`);
    found.forEach((c) => ran.add(c));
    return found[0];
  };
  const cli = (command: string, env: NodeJS.ProcessEnv = {}, cwd = work) => sh(command, { cwd, env: { TRELLIS_URL: url, TRELLIS_TOKEN: tokens.demo, ...env } });

  beforeAll(async () => {
    // Its own data directory (the CLI's files); blobs go to the suite's object storage, so the
    // artifacts its events name stay readable for a rebuild of the lineage graph by replay.
    process.env.TRELLIS_DATA_DIR = mkdtempSync(join(tmpdir(), 'trellis-cli-e2e-data-'));
    t = await startPlatformTestApp('in-process');
    await t.app.listen(0, '127.0.0.1');
    url = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    // Inside the repository (where `npm run` finds package.json), but not its root: relative
    // paths must land here, not where npm runs the script.
    mkdirSync(join(ROOT, '.trellis'), { recursive: true });
    work = mkdtempSync(join(ROOT, '.trellis', 'cli-e2e-'));
    outside = mkdtempSync(join(tmpdir(), 'trellis-cli-e2e-'));
    // Build dist/ once, here, if it is stale, so no single test pays for it.
    const build = await sh('node bin/trellis.js --help', { cwd: ROOT });
    expect(build.code).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await t?.close();
    for (const dir of [work, outside, process.env.TRELLIS_DATA_DIR]) if (dir) rmSync(dir, { recursive: true, force: true });
    Object.assign(process.env, saved);
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  });

  describe('help', () => {
    it('prints the overall usage for --help, -h and help, and each documented help line, with exit 0', async () => {
      for (const command of [readme(/^npm run trellis -- --help/), readme(/^npx trellis --help/), 'npm run trellis -- -h', 'npm run trellis -- help']) {
        const r = await cli(command);
        exits(r, 0);
        expect(r.stdout).toMatch(/usage: trellis <command>/);
        expect(r.stdout).toMatch(/exit codes: 0 ok, 1 failed .*, 2 usage error, 3 refused by the platform/);
      }
      const ingest = await cli(readme(/^npm run trellis -- ingest --help/));
      expect(ingest.code).toBe(0);
      expect(ingest.stdout).toMatch(/example:\n {2}trellis ingest demo --manifest/);
      const publish = await cli(readme(/^npm run trellis -- help annotation publish/));
      expect(publish.code).toBe(0);
      expect(publish.stdout).toMatch(/usage: trellis annotation publish --project PROJECT_ID \[--json\]\n[\s\S]*example:\n {2}trellis annotation publish/);
    });

    it('prints every command and subcommand usage, with an example, for --help and -h', async () => {
      const lines: [string, RegExp][] = [['npm run token -- --help', /usage: trellis token <subcommand>[\s\S]*example:\n {2}trellis token create/]];
      for (const [name, command] of Object.entries(CLI_COMMANDS)) {
        lines.push([`npm run trellis -- ${name} --help`, new RegExp(`example:\\n {2}trellis ${name}`)]);
        for (const sub of Object.keys(command.subcommands ?? {})) {
          lines.push([`npm run trellis -- ${name} ${sub} -h`, new RegExp(`usage: trellis ${name} ${sub}[\\s\\S]*example:\\n {2}trellis ${name} ${sub}`)]);
        }
      }
      for (const sub of ['create', 'revoke', 'list'])
        lines.push([`npm run token -- ${sub} --help`, new RegExp(`usage: trellis token ${sub}[\\s\\S]*example:`)]);
      // Two at a time: each is a node process, on a small machine.
      for (let i = 0; i < lines.length; i += 2) {
        await Promise.all(
          lines.slice(i, i + 2).map(async ([command, usage]) => {
            const r = await cli(command);
            exits(r, 0);
            expect(r.stdout).toMatch(usage);
          }),
        );
      }
    });
  });

  describe('exit codes', () => {
    it('exits 2 with the message and the usage on a usage error', async () => {
      const unknown = await cli('npm run trellis -- nope');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/trellis: unknown command "nope"\nusage: trellis <command>/);
      const missing = await cli('npm run trellis -- ingest demo');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/trellis ingest: --manifest is required\nusage: trellis ingest/);
      const token = await cli('npm run token -- create --label x');
      expect(token.code).toBe(2);
      expect(token.stderr).toMatch(/trellis token: --roles is required\nusage: trellis token create/);
      expect(token.stderr).not.toMatch(/\n {4}at /);
    });

    it('exits 3, in one line, when the platform refuses the token', async () => {
      const r = await cli('npm run trellis -- annotation publish --project 0190d1a2-0000-7000-8000-000000000000', { TRELLIS_TOKEN: 'trl_not-a-token' });
      exits(r, 3);
      expect(lastLine(r)).toBe(
        'trellis annotation publish: the platform refused the credentials (401): set TRELLIS_TOKEN to a valid API token (npm run token -- create ...)',
      );
    });

    it('exits 1, in one line, when the platform cannot be reached or a file is missing', async () => {
      // Relative to the folder the command was run in, not the repository root npm runs it from.
      const missing = await cli('npm run trellis -- subjects import subjects.jsonl');
      expect(missing.code).toBe(1);
      expect(lastLine(missing)).toMatch(new RegExp(`^trellis subjects: ENOENT: no such file or directory, open '${work}/subjects.jsonl'$`));
      const port = await freePort();
      const r = await cli('npm run trellis -- annotation publish --project x', { TRELLIS_URL: `http://127.0.0.1:${port}` });
      exits(r, 1);
      expect(lastLine(r)).toBe(
        `trellis annotation publish: cannot reach the platform at http://127.0.0.1:${port} (ECONNREFUSED); is it running? set TRELLIS_URL`,
      );
    });
  });

  describe('token', () => {
    it('creates tokens as the README does, lists them as trellis token, and finds the running cluster from its data directory', async () => {
      const db = { DATABASE_URL: process.env.TRELLIS_TEST_DATABASE_URL };
      const admin = await cli(readme(/^npm run token -- create --roles admin --label me/), db);
      exits(admin, 0);
      expect(output(admin)).toMatch(/^trl_\S+$/);
      const demo = await cli(readme(/^npm run token -- create --roles steward,annotator,reviewer,auditor,engineer --label demo/), db);
      expect(demo.code).toBe(0);
      tokens.demo = output(demo);
      const list = await cli(readme(/^npm run trellis -- token list/), db);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/\tsteward,annotator,reviewer,auditor,engineer\tno-expiry\tdemo/);
      const refused = await cli('npm run token -- create --roles root --label x', db);
      expect(refused.code).toBe(3);
      expect(lastLine(refused)).toMatch(/^trellis token: INVALID_REQUEST: .*roles/);

      // No DATABASE_URL, no TRELLIS_PG_PORT: the test cluster (another port than the default)
      // is found from its data directory's postmaster.pid.
      const pgDir = join(process.env.TRELLIS_TEST_DATA_DIR || join(ROOT, '.trellis', 'test-data'), 'pg');
      if (existsSync(join(pgDir, 'postgres', 'postmaster.pid'))) {
        const port = readFileSync(join(pgDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[3];
        const found = await cli('npm run token -- list', { DATABASE_URL: '', TRELLIS_PG_PORT: '', TRELLIS_DATA_DIR: pgDir });
        exits(found, 0);
        expect(found.stderr).toContain(`using the embedded PostgreSQL already running on port ${port}`);
      }
    });
  });

  describe('the walk-through and annotation', () => {
    it('runs the documented commands from a folder inside the repository, relative paths resolved there, up to a training run', async () => {
      expect(tokens.demo).toBeDefined();
      const synthetic = await cli(readme(/^npm run trellis -- synthetic demo/));
      exits(synthetic, 0);
      expect(existsSync(join(work, 'demo', 'manifest.jsonl'))).toBe(true);
      expect(existsSync(join(ROOT, 'demo'))).toBe(false);

      const subjects = await cli(readme(/^npm run trellis -- subjects import demo\/subjects.jsonl/));
      exits(subjects, 0);
      expect(subjects.stdout).toMatch(/registered: 5,/);

      const ingest = await cli(readme(/^npm run trellis -- ingest demo /));
      // Withdrawn consent: some files rejected, listed with their reason, exit 1 (as the README says).
      exits(ingest, 1);
      expect(ingest.stdout).toMatch(/ line \d+ \S+: NO_CONSENT: /);
      const datasetId = /dataset demo \(([0-9a-f-]{36})\): \d+ added, published version 1 /.exec(ingest.stdout)?.[1];
      expect(datasetId).toBeDefined();

      writeFileSync(join(work, 'guidelines.md'), 'One sentence: the shape and where it is.\n');
      const createLine = readme(/^npm run trellis -- annotation create-project/).replace('DATASET_ID', datasetId!);
      const created = await cli(createLine);
      exits(created, 0);
      const projectId = output(created);
      expect(projectId).toMatch(/^[0-9a-f-]{36}$/);

      const publishLine = readme(/^npm run trellis -- annotation publish --project PROJECT_ID$/);
      // Nothing is final yet: the platform refuses an empty set (3), and --project reaches the
      // CLI (it used to be taken by tsconfig-paths: ENOENT stat '<id>').
      const empty = await cli(publishLine.replace('PROJECT_ID', projectId));
      exits(empty, 3);
      expect(empty.stderr).not.toMatch(/ENOENT/);
      expect(lastLine(empty)).toMatch(/^trellis annotation publish: 4\d\d [A-Z_]+: /);

      await annotateOneItem(projectId);
      const published = await cli(publishLine.replace('PROJECT_ID', projectId));
      exits(published, 0);
      expect(output(published)).toBe('1');

      const exported = await cli(readme(/^npm run trellis -- annotation export/).replace('PROJECT_ID', projectId));
      exits(exported, 0);
      const set = JSON.parse(readFileSync(join(work, 'set.json'), 'utf8'));
      expect(set.length).toBeGreaterThan(0);

      // Into a second project on the same version, made by the same README line.
      const second = output(await cli(createLine));
      const imported = await cli(readme(/^npm run trellis -- annotation import/).replace('PROJECT_ID', second));
      exits(imported, 0);
      expect(output(imported)).toBe(`imported ${set.length} item(s)`);

      // Training on the published set, as the Trainer section writes it; this platform trains
      // in-process (the embedded default), in a worker process.
      const sets = (await (await fetch(`${url}/annotation/projects/${projectId}/sets`, { headers: { authorization: `Bearer ${tokens.demo}` } })).json()) as {
        setId: string;
      }[];
      const base = await cli(readme(/^npm run trellis -- base-model create --preset tiny/));
      exits(base, 0);
      const baseModelId = output(base);
      expect(baseModelId).toMatch(/^[0-9a-f-]{36}$/);
      const model = uniqueName('chest-captioner');
      const named = (pattern: RegExp) => readme(pattern).replaceAll('chest-captioner', model);
      const trained = await cli(
        named(/^npm run trellis -- train start /)
          .replace('BASE_ID', baseModelId)
          .replace('SET_ID', sets[0].setId),
      );
      exits(trained, 0);
      const runId = output(trained);
      expect(lastLine(trained)).toMatch(/^completed: held-out loss .* artifacts$/);
      const status = await cli(readme(/^npm run trellis -- train status RUN_ID/).replace('RUN_ID', runId));
      exits(status, 0);
      expect(JSON.parse(output(status))).toMatchObject({ runId, status: 'completed', step: 200, snapshot: { includedItems: 1 } });
      const retrained = await cli(readme(/^npm run trellis -- train retrain-excluding-withdrawn RUN_ID --wait/).replace('RUN_ID', runId));
      exits(retrained, 0);
      expect(output(retrained)).toMatch(/^[0-9a-f-]{36}$/);

      // The registry, as its section writes it: the run and its retrain are versions 1 and 2 of
      // the model the train line names (made unique here: this database outlives the test).
      const versions = await cli(named(/^npm run trellis -- models versions /));
      exits(versions, 0);
      expect(output(versions).split('\n')).toEqual([expect.stringMatching(/^v1 {2}lora /), expect.stringMatching(/^v2 {2}lora /)]);

      // A held-out set of other subjects to evaluate on (through the REST API, as in the trainer's tests).
      const steward = (await t.token(['steward'])).token;
      const heldOut = await publishSyntheticSets(request(t.app.getHttpServer()), steward, { seed: 5, subjects: 2, itemsPerSubject: 1 });
      const evaluated = await cli(named(/^npm run trellis -- eval start /).replace('SET_ID', heldOut.captionSetId));
      exits(evaluated, 0);
      expect(lastLine(evaluated)).toMatch(/^completed on 2 item\(s\): bleu \d/);
      const card = await cli(named(/^npm run trellis -- models card /));
      exits(card, 0);
      expect(output(card)).toContain('Draft captions for review');
      const promoted = await cli(named(/^npm run trellis -- promote /));
      exits(promoted, 0);
      const promotionId = output(promoted);
      expect(promotionId).toMatch(/^[0-9a-f-]{36}$/);
      // The engineer who trained and asked is no approver; a second person with that role approves
      // (independence itself is tested in test/registry).
      const self = await cli(readme(/^npm run trellis -- approve PROMOTION_ID/).replace('PROMOTION_ID', promotionId));
      exits(self, 3);
      expect(lastLine(self)).toMatch(/\(403\): requires one of the roles: approver/);
      const approver = (await t.token(['approver'])).token;
      const approved = await cli(readme(/^npm run trellis -- approve PROMOTION_ID/).replace('PROMOTION_ID', promotionId), { TRELLIS_TOKEN: approver });
      exits(approved, 0);
      expect(output(approved)).toBe('approved: candidate');
      const aliases = await cli(named(/^npm run trellis -- models aliases /));
      exits(aliases, 0);
      expect(output(aliases)).toMatch(/ candidate -> v1 {2}promotion by prn-\S+: checked the predictions$/);

      // The lineage and the audit trail, as the lineage section writes them (the token holds the
      // auditor role, so these questions are themselves audited). The graph is fed by the
      // platform's consumers: wait until it has heard the promotion.
      const provenance = await eventually(
        async () => {
          const r = await cli(named(/^npm run trellis -- lineage provenance /));
          return r.code === 0 && /candidate/.test(output(r)) ? r : undefined;
        },
        60_000,
        500,
      );
      expect(output(provenance).split('\n')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^model-version:[0-9a-f-]{36} \(version 1, lora\), as of now$/),
          '  now: candidate',
          expect.stringMatching(/^ {2}snapshot: 1 item\(s\) of 1 subject\(s\) included, /),
          expect.stringMatching(/^ {2}assets 1, subjects 1, consents 1$/),
        ]),
      );
      const modelVersionId = /^model-version:([0-9a-f-]{36})/.exec(output(provenance))![1];
      const walk = await cli(readme(/^npm run trellis -- lineage walk /).replace('MODEL_VERSION_ID', modelVersionId));
      exits(walk, 0);
      expect(output(walk)).toMatch(/^\d+ node\(s\): .*training 1/);
      expect(output(walk)).toContain(`model-version:${modelVersionId} wasGeneratedBy training:${runId}`);
      const auditor = { authorization: `Bearer ${tokens.demo}`, 'content-type': 'application/json' };
      const upstream = (await (
        await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: auditor,
          body: JSON.stringify({ query: `{ lineage(id: "model-version:${modelVersionId}", depth: 8) { nodes { id type } edges { from to } } }` }),
        })
      ).json()) as { data: { lineage: { nodes: { id: string; type: string }[]; edges: { from: string; to: string }[] } } };
      // The subject whose item the snapshot included: the walk also reaches, through the annotation
      // set and its dataset version, subjects the snapshot left out, in no particular order.
      const { nodes, edges } = upstream.data.lineage;
      const typeOf = new Map(nodes.map((n) => [n.id, n.type]));
      const causes = (from: string[], type: string) => edges.filter((e) => from.includes(e.from) && typeOf.get(e.to) === type).map((e) => e.to);
      const snapshotIds = nodes.filter((n) => n.type === 'snapshot').map((n) => n.id);
      const included = causes(causes(causes(snapshotIds, 'curated-asset'), 'asset'), 'subject');
      expect(new Set(included).size).toBe(1);
      const subjectId = included[0].replace('subject:', '');
      const impact = await cli(readme(/^npm run trellis -- lineage impact /).replace('SUBJECT_ID', subjectId));
      exits(impact, 0);
      expect(output(impact)).toContain(`model-version:${modelVersionId} (model version 1)  candidate`);
      const trail = await cli(readme(/^npm run trellis -- audit trail /));
      exits(trail, 0);
      expect(output(trail)).toMatch(/ audit \d+ {2}AuditorQueried {2}\S+ {2}by prn-/);
      const verified = await cli(readme(/^npm run trellis -- audit verify /));
      exits(verified, 0);
      expect(output(verified)).toMatch(/^ok: ingestion is intact, \d+ event\(s\) up to position \d+$/);
    }, 600_000);

    it('runs from a folder outside the repository with npm --prefix, relative paths resolved there', async () => {
      const r = await cli(readme(/^npm --prefix \/path\/to\/trellis run trellis -- synthetic demo/).replace('/path/to/trellis', ROOT), {}, outside);
      exits(r, 0);
      expect(existsSync(join(outside, 'demo', 'subjects.jsonl'))).toBe(true);
    });
  });

  /** Two annotators give the same caption to one item and a reviewer accepts both: it is final. */
  async function annotateOneItem(projectId: string): Promise<void> {
    for (const who of ['a1', 'a2', 'r1']) tokens[who] ??= (await t.token([who.startsWith('a') ? 'annotator' : 'reviewer'])).token;
    const api = async (who: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    await eventually(async () => ((await api('a1', 'GET', `/annotation/projects/${projectId}`)).tasks.open > 0 ? true : undefined), 30_000, 200);
    for (let round = 0; round < 10; round++) {
      for (const who of ['a1', 'a2']) {
        const { task } = await api(who, 'POST', `/annotation/projects/${projectId}/tasks/next`);
        if (task) await api(who, 'POST', `/annotation/tasks/${task.taskId}/annotation`, { answer: { caption: 'a circle in the upper left' } });
      }
      for (const q of await api('r1', 'GET', `/annotation/projects/${projectId}/review-queue`)) {
        await api('r1', 'POST', `/annotation/tasks/${q.taskId}/reviews`, { assignmentId: q.assignmentId, verdict: 'accepted' });
      }
      if ((await api('r1', 'GET', `/annotation/projects/${projectId}`)).tasks.final > 0) return;
    }
    throw new Error('no item became final');
  }

  it('ran every CLI command the README documents', () => {
    expect(documented.filter((c) => !ran.has(c))).toEqual([]);
  });
});
