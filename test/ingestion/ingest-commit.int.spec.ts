import { randomUUID } from 'node:crypto';
import { generateSyntheticDataset } from '@trellis/synthetic';
import type { ObjectStorage } from '@trellis/storage';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { IngestionErrorCode, IngestionException } from '../../services/ingestion/src/ingestion.exception';
import { HookedStorage } from './hooked-storage';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

describe(IngestAssetUseCase.name, () => {
  let h: IngestionHarness;
  const data = generateSyntheticDataset({ seed: 21, subjects: 1, itemsPerSubject: 2, imageSize: 64, imageFormat: 'png' });

  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  async function useCaseOver(storage: ObjectStorage): Promise<IngestAssetUseCase> {
    return (await h.withStorage(storage)).get(IngestAssetUseCase);
  }

  async function nothingLeftFor(subjectId: string): Promise<void> {
    expect(await h.keys(`subjects/${subjectId}/`)).toEqual([]);
    expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toEqual([]);
    expect(await h.ds.query(`SELECT 1 FROM ingestion_assets WHERE subject_id = $1`, [subjectId])).toEqual([]);
    expect(await h.ds.query(`SELECT 1 FROM trellis_events WHERE type = 'AssetIngested' AND data->>'subjectId' = $1`, [subjectId])).toEqual([]);
  }

  describe('ingest', () => {
    it('cleans up only after every blob write settled when one write fails and another is still running', async () => {
      const subjectId = await h.consentingSubject();
      const storage = new HookedStorage(h.storage);
      // Put 0 is the raw original, put 1 the curated PNG. The raw write is held until the
      // clean-up has deleted a blob (what a premature clean-up does) or, when the clean-up
      // rightly waits for it, for a moment; then it lands.
      storage.beforePut = async (area, n) => {
        if (n === 1) throw new Error('injected put failure');
        if (n === 0) await Promise.race([storage.firstDelete, new Promise((r) => setTimeout(r, 300))]);
      };
      await expect(
        (await useCaseOver(storage)).ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward),
      ).rejects.toThrow('injected put failure');
      await Promise.all(storage.puts);
      await nothingLeftFor(subjectId);
    });

    it('does not delete a shared content-addressed blob that another upload of the subject starts using during the clean-up', async () => {
      const subjectId = await h.consentingSubject();
      const bytes = data.items[0].encoded!.bytes;
      const storage = new HookedStorage(h.storage);
      storage.beforePut = async (_area, n) => {
        if (n === 1) throw new Error('injected put failure');
      };
      // Between the clean-up's "is the raw blob referenced?" and its delete, a second upload of
      // the same bytes runs; the clean-up goes on once it finished or, when it is held back by the
      // clean-up (as it should be), after a moment.
      let second: Promise<unknown> | undefined;
      storage.beforeDelete = async (area) => {
        if (area !== 'raw' || second) return;
        second = h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes }, steward);
        await Promise.race([second.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      };
      await expect((await useCaseOver(storage)).ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes }, steward)).rejects.toThrow(
        'injected put failure',
      );
      expect(second).toBeDefined();
      const asset = (await second) as { assetId: string };
      const [row] = await h.ds.query('SELECT raw_key, curated_key, derivative_key FROM ingestion_assets WHERE asset_id = $1', [asset.assetId]);
      expect(await h.storage.stat('raw', row.raw_key)).not.toBeNull();
      expect(await h.storage.stat('curated', row.curated_key)).not.toBeNull();
      expect(await h.storage.stat('curated', row.derivative_key)).not.toBeNull();
      expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toEqual([]);
    });

    it('refuses with NO_CONSENT, storing nothing, when consent is withdrawn while the upload is written', async () => {
      const { subjectId } = await h.subjects.register({ externalRef: `ext-${randomUUID()}` }, steward);
      const { consentId } = await h.consents.record(subjectId, { decision: 'permit', purposes: ['model-training', 'research'] }, steward);
      const storage = new HookedStorage(h.storage);
      // After processing and admission, before the commit.
      storage.beforePut = async (_area, n) => {
        if (n === 0) await h.consents.withdraw(subjectId, consentId, {}, steward);
      };
      let thrown: unknown;
      await (
        await useCaseOver(storage)
      )
        .ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[1].encoded!.bytes }, steward)
        .catch((e) => (thrown = e));
      expect(thrown).toBeInstanceOf(IngestionException);
      expect((thrown as IngestionException).code).toBe(IngestionErrorCode.AssetRejected);
      expect((thrown as IngestionException).reason).toBe('NO_CONSENT');
      await Promise.all(storage.puts);
      await nothingLeftFor(subjectId);
      const [event] = await h.ds.query(`SELECT data FROM trellis_events WHERE type = 'AssetRejected' AND data->>'subjectId' = $1`, [subjectId]);
      expect(event.data.reasonCode).toBe('NO_CONSENT');
    });
  });
});
