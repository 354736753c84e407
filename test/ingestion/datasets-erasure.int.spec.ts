import { createHash } from 'node:crypto';
import { canonicalJson, DatasetManifestV1, merkleRoot } from '@trellis/contracts';
import { createSyntheticDicom, encodeRgbJpeg, generateSyntheticDataset, Prng, syntheticDicomIdentity } from '@trellis/synthetic';
import { DatasetUseCases } from '../../services/ingestion/src/datasets/dataset.usecases';
import { EraseSubjectUseCase } from '../../services/ingestion/src/erasure/erase-subject.usecase';
import { IngestionErrorCode, IngestionException } from '../../services/ingestion/src/ingestion.exception';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';
import { uniqueTitle } from '@trellis/testing';

const refusedWith = async (work: Promise<unknown>, code: IngestionErrorCode): Promise<IngestionException> => {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IngestionException);
  expect((err as IngestionException).code).toBe(code);
  return err as IngestionException;
};

describe('datasets and erasure', () => {
  let h: IngestionHarness;
  const data = generateSyntheticDataset({ seed: 31, subjects: 2, itemsPerSubject: 2, imageSize: 48, imageFormat: 'png' });
  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  describe(DatasetUseCases.name, () => {
    it('publishes immutable versions whose manifest verifies and whose root is the RFC 6962 root of the members, and diffs them', async () => {
      const s = await h.consentingSubject();
      const [a, b, c] = await Promise.all(
        [data.items[0], data.items[1], data.items[2]].map((item) =>
          h.ingest.ingest({ subject: s, declaredMimeType: 'image/png', bytes: item.encoded!.bytes }, steward),
        ),
      );
      const name = uniqueTitle('ds').replace(' ', '-');
      const { datasetId } = await h.datasets.create({ name }, steward);
      await refusedWith(h.datasets.create({ name }, steward), IngestionErrorCode.DatasetNameTaken);
      await refusedWith(h.datasets.publish(datasetId, steward), IngestionErrorCode.EmptyDataset);
      expect(await h.datasets.addAssets(name, { assetIds: [a.assetId, b.assetId] }, steward)).toEqual({ added: 2 });
      expect(await h.datasets.addAssets(datasetId, { assetIds: [a.assetId] }, steward)).toEqual({ added: 0 });
      await refusedWith(h.datasets.addAssets(datasetId, { assetIds: ['00000000-0000-4000-8000-000000000000'] }, steward), IngestionErrorCode.AssetNotAvailable);

      const v1 = await h.datasets.publish(name, steward);
      expect(v1).toMatchObject({ datasetId, version: 1, memberCount: 2, excludedErased: [] });
      await refusedWith(h.datasets.publish(datasetId, steward), IngestionErrorCode.NothingToPublish);

      const m1 = await h.datasets.manifest(datasetId, 1);
      expect(m1.members.map((m) => m.assetId)).toEqual([a.assetId, b.assetId].sort());
      expect(merkleRoot(m1.members.map((m) => Buffer.from(canonicalJson(m))))).toBe(v1.merkleRoot);
      expect(m1.merkleRoot).toBe(v1.merkleRoot);
      const stored = await h.storage.getBuffer('artifacts', v1.manifest.key);
      const { manifestKey, downloadUrl, ...plain } = m1;
      expect(DatasetManifestV1.parse(JSON.parse(stored.toString('utf8')))).toEqual(plain);
      expect(stored.toString('utf8')).toBe(canonicalJson(plain));
      expect(createHash('sha256').update(stored).digest('hex')).toBe(v1.manifest.sha256);
      expect(manifestKey).toBe(v1.manifest.key);
      expect(downloadUrl).toMatch(/^https?:\/\//);
      const [event] = await h.ds.query(`SELECT data FROM trellis_events WHERE type = 'DatasetVersionPublished' AND data->>'datasetId' = $1`, [datasetId]);
      expect(event.data).toMatchObject({
        version: 1,
        merkleRoot: v1.merkleRoot,
        memberCount: 2,
        manifest: { area: 'artifacts', key: v1.manifest.key, sha256: v1.manifest.sha256 },
      });

      await h.datasets.removeAsset(datasetId, a.assetId, steward);
      await refusedWith(h.datasets.removeAsset(datasetId, a.assetId, steward), IngestionErrorCode.DatasetMemberConflict);
      await h.datasets.addAssets(datasetId, { assetIds: [c.assetId] }, steward);
      const v2 = await h.datasets.publish(datasetId, steward);
      expect(v2.version).toBe(2);
      expect(v2.merkleRoot).not.toBe(v1.merkleRoot);
      expect(await h.datasets.diff(datasetId, 1, 2)).toEqual({ from: 1, to: 2, added: [c.assetId], removed: [a.assetId], changed: [], unchanged: 1 });
      // Version 1 is immutable: still the same manifest after version 2.
      expect((await h.datasets.manifest(datasetId, 1)).merkleRoot).toBe(v1.merkleRoot);
      await refusedWith(h.datasets.manifest(datasetId, 3), IngestionErrorCode.VersionNotFound);
    });
  });

  describe(EraseSubjectUseCase.name, () => {
    it('leaves no personal detail in any table or blob, keeps the hash chain verifiable, and drops the subject from new versions', async () => {
      const patient = { name: 'Zofia Wisniewska-Erasure', mrn: 'MRN-ERASE-7319', birthDate: '1961-04-17' };
      const subjectId = await h.consentingSubject({ ...patient, externalRef: `erase-${Date.now()}` });
      const other = await h.consentingSubject();
      const rng = new Prng(5);
      const identity = syntheticDicomIdentity(rng, { name: 'Zofia Wisniewska', birthDate: patient.birthDate, mrn: patient.mrn });
      const dicom = createSyntheticDicom({ width: 48, height: 48, rgb: data.items[0].rgb }, identity);
      const image = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'application/dicom', bytes: dicom }, steward);
      const jpeg = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/jpeg', bytes: encodeRgbJpeg(data.items[1].rgb, 48, 48) }, steward);
      const report = await h.ingest.ingest(
        {
          subject: subjectId,
          declaredMimeType: 'text/plain',
          describesAssetId: image.assetId,
          bytes: Buffer.from(`Patient: ${patient.name}  MRN: ${patient.mrn}  DOB: 04/17/1961\nFINDINGS: small nodule.\n`),
        },
        steward,
      );
      const kept = await h.ingest.ingest({ subject: other, declaredMimeType: 'image/png', bytes: data.items[3].encoded!.bytes }, steward);
      const { datasetId } = await h.datasets.create({ name: uniqueTitle('erase') }, steward);
      await h.datasets.addAssets(datasetId, { assetIds: [image.assetId, jpeg.assetId, report.assetId, kept.assetId] }, steward);
      await h.datasets.publish(datasetId, steward);
      expect((await h.keys(`subjects/${subjectId}/`)).length).toBeGreaterThanOrEqual(9);

      const result = await h.erasure.erase(subjectId, {}, steward);
      expect(result).toMatchObject({ subjectId, reason: 'gdpr-art17', assetCount: 3 });
      expect(result.blobsDeleted).toBeGreaterThanOrEqual(9);

      // No blob under the subject's prefix, in either area; the other subject's blobs are untouched.
      expect(await h.keys(`subjects/${subjectId}/`)).toEqual([]);
      expect((await h.keys(`subjects/${other}/`)).length).toBe(3);
      // No blob anywhere (raw, curated, artifacts) holds the name or the MRN.
      for (const area of ['raw', 'curated', 'artifacts'] as const) {
        for await (const o of h.storage.list(area, '')) {
          const text = (await h.storage.getBuffer(area, o.key)).toString('latin1');
          expect({ area, key: o.key, leaks: ['Wisniewska', patient.mrn].some((v) => text.includes(v)) }).toEqual({ area, key: o.key, leaks: false });
        }
      }
      // No table of the database holds the name, the MRN or the birth date.
      const tables: { table_name: string }[] = await h.ds.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.table_name)).toContain('ingestion_subject_identities');
      for (const { table_name } of tables) {
        const [{ n }] = await h.ds.query(
          `SELECT count(*)::int AS n FROM "${table_name}" t WHERE t::text ILIKE '%' || $1 || '%' OR t::text ILIKE '%' || $2 || '%' OR t::text LIKE '%' || $3 || '%'`,
          ['Wisniewska', patient.mrn, patient.birthDate],
        );
        expect({ table_name, n }).toEqual({ table_name, n: 0 });
      }
      // The log is unchanged but for SubjectErased, and still verifies.
      const verify = await h.store.verify('ingestion');
      expect(verify.ok).toBe(true);
      const [erased] = await h.ds.query(`SELECT data FROM trellis_events WHERE type = 'SubjectErased' AND data->>'subjectId' = $1`, [subjectId]);
      expect(erased.data).toEqual({ subjectId, reason: 'gdpr-art17', assetCount: 3, blobsDeleted: result.blobsDeleted });
      expect(
        (await h.ds.query('SELECT DISTINCT status FROM ingestion_assets WHERE subject_id = $1', [subjectId])).map((r: { status: string }) => r.status),
      ).toEqual(['erased']);

      // Afterwards: no new upload, no second erasure, and the next version leaves the assets out.
      await refusedWith(
        h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[2].encoded!.bytes }, steward),
        IngestionErrorCode.AssetRejected,
      );
      await refusedWith(h.erasure.erase(subjectId, {}, steward), IngestionErrorCode.SubjectErased);
      const v2 = await h.datasets.publish(datasetId, steward);
      expect(v2.memberCount).toBe(1);
      expect(v2.excludedErased).toEqual([image.assetId, jpeg.assetId, report.assetId].sort());
      await refusedWith(h.datasets.addAssets(datasetId, { assetIds: [jpeg.assetId] }, steward), IngestionErrorCode.AssetNotAvailable);
    });

    it('erases after a consent withdrawal that asks for deletion', async () => {
      const subjectId = await h.consentingSubject({ name: 'Pavel Novak-Withdraws', mrn: 'MRN-WD-5521' });
      await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
      const [{ consent_id }] = await h.ds.query('SELECT consent_id FROM ingestion_consents WHERE subject_id = $1', [subjectId]);
      const out = await h.consents.withdraw(subjectId, consent_id, { eraseData: true }, steward, (id, reason, actor) => h.erasure.erase(id, { reason }, actor));
      expect(out).toEqual({ purposes: ['human-annotation', 'model-training', 'research'], erased: true });
      const types = (await h.store.readStream('ingestion', `subject-${subjectId}`)).map((e) => e.type);
      expect(types).toEqual(['SubjectRegistered', 'ConsentRecorded', 'ConsentWithdrawn', 'SubjectErased']);
      expect(await h.ds.query('SELECT 1 FROM ingestion_subject_identities WHERE subject_id = $1', [subjectId])).toEqual([]);
      expect(await h.keys(`subjects/${subjectId}/`)).toEqual([]);
      const [{ data: erased }] = await h.ds.query(`SELECT data FROM trellis_events WHERE type = 'SubjectErased' AND data->>'subjectId' = $1`, [subjectId]);
      expect(erased.reason).toBe('consent-withdrawn');
    });
  });
});
