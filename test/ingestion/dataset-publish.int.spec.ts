import { generateSyntheticDataset } from '@trellis/synthetic';
import { DatasetUseCases } from '../../services/ingestion/src/datasets/dataset.usecases';
import { IngestionErrorCode, IngestionException } from '../../services/ingestion/src/ingestion.exception';
import { HookedStorage } from './hooked-storage';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';
import { uniqueTitle } from '@trellis/testing';

describe(DatasetUseCases.name, () => {
  let h: IngestionHarness;
  const data = generateSyntheticDataset({ seed: 41, subjects: 2, itemsPerSubject: 1, imageSize: 48, imageFormat: 'png' });

  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  describe('publish', () => {
    it('refuses with 409, publishing nothing, when a member is erased between reading the members and the append', async () => {
      const [s1, s2] = [await h.consentingSubject(), await h.consentingSubject()];
      const a = await h.ingest.ingest({ subject: s1, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
      const b = await h.ingest.ingest({ subject: s2, declaredMimeType: 'image/png', bytes: data.items[1].encoded!.bytes }, steward);
      const storage = new HookedStorage(h.storage);
      const datasets = (await h.withStorage(storage)).get(DatasetUseCases);
      const { datasetId } = await datasets.create({ name: uniqueTitle('race') }, steward);
      await datasets.addAssets(datasetId, { assetIds: [a.assetId, b.assetId] }, steward);
      // The manifest write falls between the read of the members and the append.
      storage.beforePut = async () => {
        await h.erasure.erase(s2, { reason: 'gdpr-art17' }, steward);
      };

      let thrown: unknown;
      await datasets.publish(datasetId, steward).catch((e) => (thrown = e));
      expect(thrown).toBeInstanceOf(IngestionException);
      expect((thrown as IngestionException).code).toBe(IngestionErrorCode.ConcurrentChange);
      expect((thrown as IngestionException).errorClass).toBe('conflict');
      expect(await h.ds.query('SELECT 1 FROM ingestion_dataset_versions WHERE dataset_id = $1', [datasetId])).toEqual([]);
      expect(await h.ds.query(`SELECT 1 FROM trellis_events WHERE type = 'DatasetVersionPublished' AND data->>'datasetId' = $1`, [datasetId])).toEqual([]);

      // Published again, the version leaves the erased asset out.
      storage.beforePut = async () => undefined;
      const v1 = await datasets.publish(datasetId, steward);
      expect(v1).toMatchObject({ version: 1, memberCount: 1, excludedErased: [b.assetId] });
      expect((await datasets.manifest(datasetId, 1)).members.map((m) => m.assetId)).toEqual([a.assetId]);
    });
  });
});
