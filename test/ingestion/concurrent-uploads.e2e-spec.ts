import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrellisHttpClient } from '@trellis/cli';
import { generateSyntheticDataset, writeSyntheticFolder } from '@trellis/synthetic';
import { runIngest } from '../../services/ingestion/src/cli/ingest.command';
import { runSubjectsImport } from '../../services/ingestion/src/cli/subjects-import.command';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { uniqueTitle } from '@trellis/testing';

/**
 * Issue 11, item 0: concurrent uploads froze the platform for good (every pool connection held
 * in a transaction, waiting for a second one). Through a pool of 4 connections, every upload must
 * finish or be refused with 503 and Retry-After, and /health must answer all the while.
 */
describe('Concurrent uploads', () => {
  const POOL_SIZE = 4;
  let t: PlatformTestApp;
  let url: string;
  let steward: string;

  beforeAll(async () => {
    t = await startPlatformTestApp('in-process', {}, { poolSize: POOL_SIZE });
    await t.app.listen(0, '127.0.0.1');
    url = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    steward = (await t.token(['steward'])).token;
  });
  afterAll(() => t.close());

  const auth = () => ({ authorization: `Bearer ${steward}` });

  async function json(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...auth(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function consentingSubject(ref: string): Promise<string> {
    const reg = await json('POST', '/ingestion/subjects', { externalRef: ref });
    expect(reg.status).toBe(201);
    const subjectId = reg.body.subjectId as string;
    const consent = await json('POST', `/ingestion/subjects/${subjectId}/consents`, { decision: 'permit', purposes: ['model-training', 'research'] });
    expect(consent.status).toBe(201);
    return subjectId;
  }

  interface UploadOutcome {
    status: number;
    retryAfter: string | null;
    assetId?: string;
    error?: string;
  }

  async function upload(subjectId: string, png: Buffer): Promise<UploadOutcome> {
    const form = new FormData();
    form.set('subject', subjectId);
    form.set('file', new Blob([png], { type: 'image/png' }), 'image.png');
    const res = await fetch(`${url}/ingestion/assets`, { method: 'POST', headers: auth(), body: form, signal: AbortSignal.timeout(60_000) });
    const body = (await res.json()) as { assetId?: string; error?: string };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), assetId: body.assetId, error: body.error };
  }

  /** Polls /health until stopped; each answer's status and how long it took. */
  function watchHealth(): { stop(): Promise<{ status: number; ms: number }[]> } {
    const seen: { status: number; ms: number }[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const started = Date.now();
        const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) }).then(
          (r) => r.status,
          () => 0,
        );
        seen.push({ status, ms: Date.now() - started });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return seen;
      },
    };
  }

  it('64 uploads to 64 subjects through a pool of 4 each finish or get 503 with Retry-After, and /health answers throughout', async () => {
    const data = generateSyntheticDataset({ seed: 1100, subjects: 64, itemsPerSubject: 1, imageSize: 32, imageFormat: 'png', withdrawnFraction: 0 });
    const subjects: string[] = [];
    for (let i = 0; i < data.items.length; i++) subjects.push(await consentingSubject(`concurrent-${Date.now()}-${i}`));

    const health = watchHealth();
    const outcomes = await Promise.all(data.items.map((item, i) => upload(subjects[i], item.encoded!.bytes)));
    const probes = await health.stop();

    for (const o of outcomes) {
      expect([200, 201, 503]).toContain(o.status);
      if (o.status === 503) {
        expect(o.error).toBe('UPLOADS_BUSY');
        expect(Number(o.retryAfter)).toBeGreaterThan(0);
      }
    }
    expect(outcomes.filter((o) => o.status === 201).length).toBeGreaterThan(0);
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status !== 200)).toEqual([]);

    // The refused ones go through once the load has passed: nothing stays stuck.
    const refused = outcomes.map((o, i) => (o.status === 503 ? i : -1)).filter((i) => i >= 0);
    for (const i of refused) expect((await upload(subjects[i], data.items[i].encoded!.bytes)).status).toBe(201);
  }, 180_000);

  it('8 concurrent adds of different assets to one dataset all succeed', async () => {
    const data = generateSyntheticDataset({ seed: 1101, subjects: 1, itemsPerSubject: 8, imageSize: 32, imageFormat: 'png', withdrawnFraction: 0 });
    const subjectId = await consentingSubject(`dataset-adds-${Date.now()}`);
    const assetIds: string[] = [];
    for (const item of data.items) {
      const o = await upload(subjectId, item.encoded!.bytes);
      expect(o.status).toBe(201);
      assetIds.push(o.assetId!);
    }
    const created = await json('POST', '/ingestion/datasets', { name: uniqueTitle('concurrent-adds') });
    expect(created.status).toBe(201);
    const datasetId = created.body.datasetId as string;

    const adds = await Promise.all(assetIds.map((assetId) => json('POST', `/ingestion/datasets/${datasetId}/assets`, { assetIds: [assetId] })));
    expect(adds.map((a) => [a.status, a.body.added])).toEqual(assetIds.map(() => [200, 1]));
    const dataset = await json('GET', `/ingestion/datasets/${datasetId}`);
    expect(dataset.body.memberCount).toBe(8);
  }, 120_000);

  it('trellis ingest --concurrency 32 completes against the same pool, retrying 503 after Retry-After', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-concurrent-ingest-'));
    try {
      const folder = join(dir, 'folder');
      const { manifestPath, subjectsPath } = await writeSyntheticFolder(folder, {
        seed: 1102,
        subjects: 16,
        itemsPerSubject: 4,
        imageSize: 32,
        imageFormat: 'png',
        withdrawnFraction: 0,
      });
      const client = new TrellisHttpClient(url, steward);
      expect(await runSubjectsImport(['import', subjectsPath], client, () => undefined)).toBe(0);
      const out: string[] = [];
      const run = await runIngest([folder, '--manifest', manifestPath, '--concurrency', '32'], client, (l) => out.push(l));
      expect(run.summary.rejected).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.summary.ingested + run.summary.duplicate).toBeGreaterThanOrEqual(64);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
