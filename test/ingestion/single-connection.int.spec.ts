import { generateSyntheticDataset } from '@trellis/synthetic';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';
import { uniqueTitle } from '@trellis/testing';

/**
 * Issue 11, item 0: no code path may hold a pool connection while asking the pool for another
 * (under load every connection ends up held, each waiting for a second: the platform freezes).
 * With a pool of one connection any such path cannot finish: the acquisition timeout fails it.
 */
describe('Ingestion on a pool of one connection', () => {
  let h: IngestionHarness;
  const saved = { acquire: process.env.TRELLIS_DB_ACQUIRE_TIMEOUT_MS, check: process.env.TRELLIS_DB_NESTED_ACQUIRE_CHECK };
  const data = generateSyntheticDataset({ seed: 1103, subjects: 1, itemsPerSubject: 3, imageSize: 32, imageFormat: 'png', withdrawnFraction: 0 });

  beforeAll(async () => {
    process.env.TRELLIS_DB_ACQUIRE_TIMEOUT_MS = '5000';
    // And beyond this pool: a path that asks for a second connection fails at once, with its stack.
    process.env.TRELLIS_DB_NESTED_ACQUIRE_CHECK = '1';
    h = await startIngestionHarness({}, { poolSize: 1 });
  });
  afterAll(async () => {
    for (const [name, value] of [
      ['TRELLIS_DB_ACQUIRE_TIMEOUT_MS', saved.acquire],
      ['TRELLIS_DB_NESTED_ACQUIRE_CHECK', saved.check],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await h.close();
  });

  it('registers, records consent, ingests, adds to a dataset, publishes and erases', async () => {
    const subjectId = await h.consentingSubject({ externalRef: `one-connection-${Date.now()}` });
    const ids: string[] = [];
    for (const item of data.items.slice(0, 2)) {
      const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: item.encoded!.bytes }, steward);
      expect(asset.duplicate).toBe(false);
      ids.push(asset.assetId);
    }
    const again = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
    expect(again).toMatchObject({ duplicate: true, assetId: ids[0] });
    const { datasetId } = await h.datasets.create({ name: uniqueTitle('one-connection') }, steward);
    expect(await h.datasets.addAssets(datasetId, { assetIds: ids }, steward)).toEqual({ added: 2 });
    expect((await h.datasets.publish(datasetId, steward)).memberCount).toBe(2);
    expect((await h.erasure.erase(subjectId, { reason: 'gdpr-art17' }, steward)).assetCount).toBe(2);
  }, 60_000);

  it('recovers a stale upload intent, with and without its event', async () => {
    const subjectId = await h.consentingSubject({ externalRef: `one-connection-recovery-${Date.now()}` });
    const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[2].encoded!.bytes }, steward);
    // An upload that died after its blobs (no event), and one that died after its commit (intent left behind).
    await h.ds.query(
      `INSERT INTO ingestion_upload_intents (asset_id, subject_id, blobs, created_at) VALUES (gen_random_uuid(), $1, '[]', now() - interval '1 day')`,
      [subjectId],
    );
    await h.ds.query(`INSERT INTO ingestion_upload_intents (asset_id, subject_id, blobs, created_at) VALUES ($1, $2, '[]', now() - interval '1 day')`, [
      asset.assetId,
      subjectId,
    ]);
    const report = await h.recovery.run(60_000);
    expect(report.completed).toBeGreaterThanOrEqual(1);
    expect(report.abandoned).toBeGreaterThanOrEqual(1);
    expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toEqual([]);
  }, 60_000);
});
