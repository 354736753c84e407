import { generateSyntheticDataset } from '@trellis/synthetic';
import { EraseSubjectUseCase } from '../../services/ingestion/src/erasure/erase-subject.usecase';
import { HookedStorage } from './hooked-storage';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

describe(EraseSubjectUseCase.name, () => {
  let h: IngestionHarness;
  const data = generateSyntheticDataset({ seed: 51, subjects: 1, itemsPerSubject: 1, imageSize: 48, imageFormat: 'png' });

  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  describe('erase', () => {
    it('leaves no blob under the subject prefix when an upload writes there after the first sweep listed it', async () => {
      const subjectId = await h.consentingSubject();
      await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
      const storage = new HookedStorage(h.storage);
      // A late upload's write lands while the first sweep is deleting what it listed.
      let late = false;
      storage.beforeDelete = async () => {
        if (late) return;
        late = true;
        await h.storage.putBuffer('raw', Buffer.from('a late upload'), { prefix: `subjects/${subjectId}/`, contentType: 'text/plain' });
      };
      const erasure = (await h.withStorage(storage)).get(EraseSubjectUseCase);
      await erasure.erase(subjectId, {}, steward);
      expect(late).toBe(true);
      expect(await h.keys(`subjects/${subjectId}/`)).toEqual([]);
    });
  });
});
