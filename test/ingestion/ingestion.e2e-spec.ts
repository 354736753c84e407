import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { encodeRgbJpeg, generateSyntheticDataset, writeSyntheticFolder } from '@trellis/synthetic';
import { runIngest } from '../../services/ingestion/src/cli/ingest.command';
import { runSubjectsImport } from '../../services/ingestion/src/cli/subjects-import.command';
import { TrellisHttpClient } from '@trellis/cli';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { uniqueTitle } from '@trellis/testing';

describe('Ingestion over HTTP', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let steward: string;
  let auditor: string;
  let annotator: string;
  const data = generateSyntheticDataset({ seed: 41, subjects: 1, itemsPerSubject: 2, imageSize: 64, imageFormat: 'png' });
  const png = data.items[0].encoded!.bytes;

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    steward = (await t.token(['steward'])).token;
    auditor = (await t.token(['auditor'])).token;
    annotator = (await t.token(['annotator'])).token;
  });
  afterAll(() => t.close());

  const ingestionEvents = async () => (await t.dataSource.query(`SELECT count(*)::int AS n FROM trellis_events WHERE log = 'ingestion'`))[0].n as number;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  describe('access control', () => {
    it('refuses requests without a token (401) and with a role that may not write (403), writing nothing', async () => {
      const before = await ingestionEvents();
      expect((await http.post('/ingestion/subjects').send({ externalRef: 'x' })).status).toBe(401);
      expect((await http.post('/ingestion/assets').attach('file', png, { filename: 'a.png', contentType: 'image/png' }).field('subject', 'x')).status).toBe(
        401,
      );
      const forbidden = await http.post('/ingestion/subjects').set(auth(auditor)).send({ externalRef: 'x' });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.message).toMatch(/steward/);
      expect((await http.post('/ingestion/datasets').set(auth(annotator)).send({ name: 'x' })).status).toBe(403);
      expect((await http.get('/ingestion/datasets/x').set(auth(annotator))).status).toBe(403);
      expect(await ingestionEvents()).toBe(before);
    });
  });

  describe('subjects, consents, assets and datasets', () => {
    it('registers, records a FHIR consent, ingests a multipart upload, refuses bad input with 400 and publishes a version', async () => {
      const bad = await http.post('/ingestion/subjects').set(auth(steward)).send({ externalRef: 'e2e-1', birthDate: '17/04/1961' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: 'INVALID_REQUEST', fields: ['birthDate'] });

      const reg = await http
        .post('/ingestion/subjects')
        .set(auth(steward))
        .send({ externalRef: `e2e-${Date.now()}`, name: 'Keiko Lindqvist', mrn: 'MRN-E2E-9911' });
      expect(reg.status).toBe(201);
      const subjectId = reg.body.subjectId;
      const before = await ingestionEvents();
      const unmappable = await http
        .post(`/ingestion/subjects/${subjectId}/consents`)
        .set(auth(steward))
        .send({
          resourceType: 'Consent',
          status: 'active',
          decision: 'permit',
          provision: [{ purpose: [{ system: 'http://example.org/purpose', code: 'marketing' }] }],
        });
      expect(unmappable.status).toBe(400);
      expect(unmappable.body).toMatchObject({ error: 'INVALID_FHIR_CONSENT', message: expect.stringMatching(/example.org\/purpose\|marketing/) });
      expect(await ingestionEvents()).toBe(before);
      const consent = await http
        .post(`/ingestion/subjects/${subjectId}/consents`)
        .set(auth(steward))
        .send({
          resourceType: 'Consent',
          status: 'active',
          patient: { reference: 'Patient/1' },
          provision: { type: 'permit', purpose: [{ system: 'https://trellis.dev/fhir/CodeSystem/consent-purpose', code: 'model-training' }] },
        });
      expect(consent.status).toBe(201);
      expect(consent.body.fhirVersion).toBe('R4');

      const upload = () =>
        http.post('/ingestion/assets').set(auth(steward)).field('subject', subjectId).attach('file', png, { filename: 'a.png', contentType: 'image/png' });
      const first = await upload();
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ subjectId, duplicate: false, kind: 'image', width: 64, height: 64 });
      const again = await upload();
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ assetId: first.body.assetId, duplicate: true });

      const jpeg = encodeRgbJpeg(data.items[1].rgb, 64, 64);
      const truncated = await http
        .post('/ingestion/assets')
        .set(auth(steward))
        .field('subject', subjectId)
        .field('mimeType', 'image/jpeg')
        .attach('file', jpeg.subarray(0, 300), { filename: 'b.jpg', contentType: 'image/jpeg' });
      expect(truncated.status).toBe(400);
      expect(truncated.body).toMatchObject({ error: 'ASSET_REJECTED', reason: 'TRUNCATED' });
      const noFile = await http.post('/ingestion/assets').set(auth(steward)).field('subject', subjectId);
      expect(noFile.status).toBe(400);
      expect(noFile.body.message).toMatch(/file/);

      const asset = await http.get(`/ingestion/assets/${first.body.assetId}`).set(auth(auditor));
      expect(asset.status).toBe(200);
      expect(asset.body.storage.raw).toBe(`subjects/${subjectId}/${first.body.sha256}`);
      const subject = await http.get(`/ingestion/subjects/${subjectId}`).set(auth(auditor));
      expect(subject.status).toBe(200);
      expect(subject.body.permittedPurposes).toEqual(['model-training']);
      expect(JSON.stringify(subject.body)).not.toMatch(/Lindqvist|MRN-E2E/);

      const name = uniqueTitle('e2e-ds').replace(' ', '-');
      const ds = await http.post('/ingestion/datasets').set(auth(steward)).send({ name });
      expect(ds.status).toBe(201);
      expect((await http.post(`/ingestion/datasets/${name}/versions`).set(auth(steward))).status).toBe(400);
      expect(
        (
          await http
            .post(`/ingestion/datasets/${name}/assets`)
            .set(auth(steward))
            .send({ assetIds: ['not-a-uuid'] })
        ).status,
      ).toBe(400);
      expect(
        (
          await http
            .post(`/ingestion/datasets/${name}/assets`)
            .set(auth(steward))
            .send({ assetIds: [first.body.assetId] })
        ).body,
      ).toEqual({ added: 1 });
      const v1 = await http.post(`/ingestion/datasets/${name}/versions`).set(auth(steward));
      expect(v1.status).toBe(201);
      expect(v1.body).toMatchObject({ version: 1, memberCount: 1, merkleRoot: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect((await http.post(`/ingestion/datasets/${name}/versions`).set(auth(steward))).status).toBe(409);
      const manifest = await http.get(`/ingestion/datasets/${name}/versions/1`).set(auth(auditor));
      expect(manifest.status).toBe(200);
      expect(manifest.body.members.map((m: { assetId: string }) => m.assetId)).toEqual([first.body.assetId]);
      expect((await http.get(`/ingestion/datasets/${name}/diff?from=1&to=x`).set(auth(auditor))).status).toBe(400);
    });
  });

  describe('the dataset list', () => {
    it('lists datasets by name a page at a time for stewards, engineers and auditors, and refuses a bad page with 400 naming it', async () => {
      const prefix = uniqueTitle('list').replace(' ', '-');
      for (const suffix of ['c', 'a', 'b'])
        expect(
          (
            await http
              .post('/ingestion/datasets')
              .set(auth(steward))
              .send({ name: `${prefix}-${suffix}` })
          ).status,
        ).toBe(201);
      const engineer = (await t.token(['engineer'])).token;
      const page = async (query: string, token: string) => {
        const res = await http.get(`/ingestion/datasets?${query}`).set(auth(token));
        expect(res.status).toBe(200);
        return res.body as { datasetId: string; name: string; createdAt: string; latestVersion: number }[];
      };

      const first = await page(`after=${encodeURIComponent(prefix)}&limit=2`, auditor);
      expect(first.map((d) => d.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
      expect(first[0]).toEqual({ datasetId: expect.stringMatching(/^[0-9a-f-]{36}$/), name: `${prefix}-a`, createdAt: expect.any(String), latestVersion: 0 });
      expect(Date.parse(first[0].createdAt)).not.toBeNaN();
      const next = await page(`after=${encodeURIComponent(first[1].name)}&limit=2`, engineer);
      expect(next[0].name).toBe(`${prefix}-c`);
      // Unpaged, every dataset in name order (this run's among them).
      const all = (await page('limit=1000', steward)).map((d) => d.name);
      expect(all.filter((n) => n.startsWith(prefix))).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
      expect(all.length).toBeGreaterThanOrEqual(3);

      for (const [query, field] of [
        ['limit=0', 'query.limit'],
        ['limit=1001', 'query.limit'],
        ['limit=two', 'query.limit'],
        ['after=', 'query.after'],
        ['after=a&after=b', 'query.after'],
        [`after=${'x'.repeat(201)}`, 'query.after'],
      ]) {
        const res = await http.get(`/ingestion/datasets?${query}`).set(auth(steward));
        expect([query, res.status, res.body.fields]).toEqual([query, 400, [field]]);
      }
      expect((await http.get('/ingestion/datasets').set(auth(annotator))).status).toBe(403);
    });
  });

  describe('OpenAPI', () => {
    it('serves the document at /docs-json (multipart upload included) and the UI at /docs', async () => {
      const doc = await http.get('/docs-json');
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining(['/ingestion/subjects', '/ingestion/assets', '/ingestion/datasets/{ref}/versions', '/ingestion/subjects/{subjectId}/erasure']),
      );
      expect(doc.body.paths['/ingestion/assets'].post.requestBody.content).toHaveProperty(['multipart/form-data']);
      expect((await http.get('/docs/')).status).toBe(200);
    });
  });

  describe('trellis subjects import / trellis ingest', () => {
    it('imports a synthetic folder, refuses a path that escapes it, exits non-zero, and resumes idempotently', async () => {
      const server = t.app.getHttpServer();
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${server.address().port}`;
      const client = new TrellisHttpClient(url, steward);
      const dir = await mkdtemp(join(tmpdir(), 'trellis-ingest-e2e-'));
      try {
        const folder = join(dir, 'folder');
        const { manifestPath, subjectsPath } = await writeSyntheticFolder(folder, {
          seed: Date.now() % 100000,
          subjects: 3,
          itemsPerSubject: 2,
          imageSize: 48,
          imageFormat: 'jpeg',
          withdrawnFraction: 0.34,
        });
        const subjectsOut: string[] = [];
        expect(await runSubjectsImport(['import', subjectsPath], client, (l) => subjectsOut.push(l))).toBe(0);
        expect(subjectsOut[0]).toMatch(/^registered: 3,/);
        const subjectRef = JSON.parse((await readFile(subjectsPath, 'utf8')).split('\n')[0]).subjectRef;
        await appendFile(manifestPath, JSON.stringify({ path: '../../etc/passwd', subjectRef, kind: 'report', mimeType: 'text/plain' }) + '\n');
        const rows = (await readFile(manifestPath, 'utf8')).trim().split('\n').length;

        const out: string[] = [];
        const name = uniqueTitle('cli').replace(' ', '-');
        const first = await runIngest([folder, '--manifest', manifestPath, '--dataset', name, '--publish'], client, (l) => out.push(l));
        expect(first.code).toBe(1);
        const s = first.summary;
        expect(s.ingested + s.duplicate + s.rejected.length).toBe(rows);
        expect(s.ingested).toBeGreaterThan(0);
        expect(s.rejected.find((r) => r.path === '../../etc/passwd')).toMatchObject({ reason: 'PATH_ESCAPES_FOLDER' });
        // Anything else refused is a subject whose consent was withdrawn (or a report of such an image).
        for (const r of s.rejected.filter((r) => r.path !== '../../etc/passwd')) expect(['NO_CONSENT', 'INVALID_DESCRIBES']).toContain(r.reason);
        expect(out.join('\n')).toMatch(/\n {2}line \d+ \.\.\/\.\.\/etc\/passwd: PATH_ESCAPES_FOLDER: /);
        expect(s.dataset).toMatchObject({ name, added: s.ingested, version: 1 });

        const again = await runIngest([folder, '--manifest', manifestPath, '--dataset', name, '--publish'], client, () => undefined);
        expect(again.summary).toMatchObject({ ingested: 0, duplicate: s.ingested });
        expect(again.summary.rejected.length).toBe(s.rejected.length);
        expect(again.summary.dataset).toMatchObject({ added: 0, unchanged: true });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
