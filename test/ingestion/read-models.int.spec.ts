import { ProjectionRunner } from '@trellis/event-store';
import { generateSyntheticDataset } from '@trellis/synthetic';
import { IngestionReadModels } from '../../services/ingestion/src/read-models/ingestion-read-models';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';
import { uniqueTitle } from '@trellis/testing';

const TABLES: Record<string, string> = {
  ingestion_subjects: 'subject_id',
  ingestion_consents: 'consent_id',
  ingestion_assets: 'asset_id',
  ingestion_datasets: 'dataset_id',
  ingestion_dataset_members: 'dataset_id, asset_id',
  ingestion_dataset_versions: 'dataset_id, version',
};

describe(IngestionReadModels.name, () => {
  let h: IngestionHarness;
  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const [table, key] of Object.entries(TABLES)) out[table] = await h.ds.query(`SELECT * FROM ${table} ORDER BY ${key}`);
    return out;
  }

  describe('reset + replay', () => {
    it('rebuilds every ingestion read model from the log to exactly the rows the inline writes produced', async () => {
      const data = generateSyntheticDataset({ seed: 51, subjects: 2, itemsPerSubject: 1, imageSize: 32, imageFormat: 'png' });
      const a = await h.consentingSubject({ name: 'Rebuild One' });
      const b = await h.consentingSubject();
      const ia = await h.ingest.ingest({ subject: a, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
      const ib = await h.ingest.ingest({ subject: b, declaredMimeType: 'image/png', bytes: data.items[1].encoded!.bytes }, steward);
      const { datasetId } = await h.datasets.create({ name: uniqueTitle('rebuild') }, steward);
      await h.datasets.addAssets(datasetId, { assetIds: [ia.assetId, ib.assetId] }, steward);
      await h.datasets.publish(datasetId, steward);
      await h.datasets.removeAsset(datasetId, ia.assetId, steward);
      const [{ consent_id }] = await h.ds.query('SELECT consent_id FROM ingestion_consents WHERE subject_id = $1', [b]);
      await h.consents.withdraw(b, consent_id, { purposes: ['research'] }, steward);
      await h.erasure.erase(a, {}, steward);

      const before = await snapshot();
      expect(before.ingestion_assets.length).toBeGreaterThanOrEqual(2);
      const runner = new ProjectionRunner(h.ds, h.store);
      try {
        await runner.rebuild(new IngestionReadModels());
      } finally {
        await runner.stopAll();
      }
      expect(await snapshot()).toEqual(before);
    });
  });
});
