import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TrellisHttpClient } from '@trellis/cli';
import { runSubjectsImport } from '../../services/ingestion/src/cli/subjects-import.command';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

// Issue 11, item 1: consent bypass through a reused external reference.
describe('item 1: consent bypass through a reused external reference', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let steward: string;
  let client: TrellisHttpClient;
  let dir: string;

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    steward = (await t.token(['steward'])).token;
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new TrellisHttpClient(`http://127.0.0.1:${server.address().port}`, steward);
    dir = await mkdtemp(join(tmpdir(), 'trellis-item1-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await t.close();
  });

  const auth = () => ({ authorization: `Bearer ${steward}` });
  const events = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM trellis_events WHERE log = 'ingestion'`))[0].n as number;
  const ref = (label: string) => `item1-${label}-${Date.now()}`;

  describe('POST /ingestion/subjects', () => {
    it('answers the same reference and identity with the same subject, and refuses a different identity with 409 naming only the fields', async () => {
      const externalRef = ref('api');
      const identity = { externalRef, name: 'Ines Quarrington', birthDate: '1961-04-17', mrn: 'MRN-ITEM1-0001' };
      const first = await http.post('/ingestion/subjects').set(auth()).send(identity);
      expect(first.status).toBe(201);
      expect(first.body.duplicate).toBe(false);
      const again = await http.post('/ingestion/subjects').set(auth()).send(identity);
      expect(again.body).toEqual({ subjectId: first.body.subjectId, duplicate: true });

      const before = await events();
      const other = await http
        .post('/ingestion/subjects')
        .set(auth())
        .send({ ...identity, name: 'Oskar Brandvold', birthDate: '1970-02-28' });
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ error: 'SUBJECT_IDENTITY_CONFLICT', fields: ['name', 'birthDate'] });
      expect(JSON.stringify(other.body)).not.toMatch(/Oskar|Brandvold|Ines|Quarrington|1970|1961|MRN-ITEM1/);
      const refOnly = await http.post('/ingestion/subjects').set(auth()).send({ externalRef });
      expect(refOnly.status).toBe(409);
      expect(refOnly.body.fields).toEqual(['name', 'birthDate', 'mrn']);
      expect(await events()).toBe(before);
    });

    it('refuses a subject with no identity and no reference (400), appending nothing', async () => {
      const before = await events();
      const empty = await http.post('/ingestion/subjects').set(auth()).send({});
      expect(empty.status).toBe(400);
      expect(empty.body).toMatchObject({ error: 'INVALID_REQUEST', fields: ['externalRef'] });
      expect((await http.post('/ingestion/subjects').set(auth()).send({ name: '   ' })).status).toBe(400);
      expect(await events()).toBe(before);
    });
  });

  describe('trellis subjects import', () => {
    it('refuses a line that reuses a reference for another person, recording none of its consents', async () => {
      const subjectRef = ref('cli-other');
      const file = join(dir, 'other.jsonl');
      const consents = [{ purposes: ['model-training'], decision: 'permit', start: '2022-01-01T09:00:00Z' }];
      await writeFile(file, JSON.stringify({ subjectRef, name: 'Ada Lunde', birthDate: '1950-02-28', mrn: 'MRN-A', consents }) + '\n');
      expect(await runSubjectsImport(['import', file], client, () => undefined)).toBe(0);
      const subjectId = (await http.get(`/ingestion/subjects/${subjectRef}`).set(auth())).body.subjectId;

      const out: string[] = [];
      await writeFile(file, JSON.stringify({ subjectRef, name: 'Bo Lunde', birthDate: '1950-02-28', mrn: 'MRN-B', consents }) + '\n');
      expect(await runSubjectsImport(['import', file], client, (l) => out.push(l))).toBe(1);
      expect(out[0]).toMatch(/^registered: 0, already known: 0, consents recorded: 0, withdrawn: 0, failed: 1/);
      expect(out[1]).toMatch(/different name, mrn/);
      expect((await http.get(`/ingestion/subjects/${subjectId}`).set(auth())).body.consents).toHaveLength(1);
    });

    it('applies a consent withdrawn since the last import instead of calling it already known, and never grants a withdrawn one again', async () => {
      const subjectRef = ref('cli-withdraw');
      const file = join(dir, 'withdraw.jsonl');
      const line = (withdrawn: boolean, extra: object[] = []) =>
        JSON.stringify({
          subjectRef,
          name: 'Cato Ferreira',
          birthDate: '1988-11-30',
          mrn: 'MRN-C',
          consents: [{ purposes: ['model-training', 'research'], decision: 'permit', start: '2021-03-04T09:00:00Z', withdrawn }, ...extra],
        }) + '\n';
      const run = async () => {
        const out: string[] = [];
        const code = await runSubjectsImport(['import', file], client, (l) => out.push(l));
        return { code, out };
      };
      const subject = async () => (await http.get(`/ingestion/subjects/${subjectRef}`).set(auth())).body;

      await writeFile(file, line(false));
      expect((await run()).out[0]).toMatch(/^registered: 1, already known: 0, consents recorded: 1, withdrawn: 0, failed: 0/);
      expect((await subject()).permittedPurposes).toEqual(['model-training', 'research']);

      // Unchanged: nothing to do.
      expect(await run()).toEqual({ code: 0, out: ['registered: 0, already known: 1, consents recorded: 0, withdrawn: 0, failed: 0'] });

      // The file now says withdrawn: the platform must learn it.
      await writeFile(file, line(true));
      expect(await run()).toEqual({ code: 0, out: ['registered: 0, already known: 1, consents recorded: 0, withdrawn: 1, failed: 0'] });
      expect((await subject()).permittedPurposes).toEqual([]);
      expect(await run()).toEqual({ code: 0, out: ['registered: 0, already known: 1, consents recorded: 0, withdrawn: 0, failed: 0'] });

      // An older file that still grants it does not bring the consent back; a new consent line is recorded.
      await writeFile(file, line(false, [{ purposes: ['human-annotation'], decision: 'permit' }]));
      const stale = await run();
      expect(stale.code).toBe(1);
      expect(stale.out[0]).toMatch(/consents recorded: 1, withdrawn: 0, failed: 1/);
      expect(stale.out[1]).toMatch(/withdrawn on the platform/);
      expect((await subject()).permittedPurposes).toEqual(['human-annotation']);
    });
  });
});
