import { createSyntheticDicom, generateSyntheticDataset, Prng, syntheticDicomIdentity } from '@trellis/synthetic';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { IngestionErrorCode, IngestionException } from '../../services/ingestion/src/ingestion.exception';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

/** Sets a US element (explicit VR little endian) of a DICOM file, e.g. Rows (0028,0010). */
function setUs(dicom: Buffer, group: number, element: number, value: number): Buffer {
  const out = Buffer.from(dicom);
  const tag = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, 0x55, 0x53, 0x02, 0x00]);
  const at = out.indexOf(tag);
  if (at < 0) throw new Error(`no US element (${group.toString(16)},${element.toString(16)})`);
  out.writeUInt16LE(value, at + 8);
  return out;
}

describe(IngestAssetUseCase.name, () => {
  let h: IngestionHarness;
  const MAX_PIXELS = 1_000_000;
  const data = generateSyntheticDataset({ seed: 77, subjects: 1, itemsPerSubject: 1, imageSize: 64 });
  const patient = data.subjects[0];

  beforeAll(async () => {
    h = await startIngestionHarness({ maxPixels: MAX_PIXELS });
  });
  afterAll(() => h.close());

  describe('ingest (de-identification with the subject and the limits)', () => {
    it('removes the registered birth date (any common form) and MRN from a report, wherever they occur', async () => {
      const subjectId = await h.consentingSubject({ name: patient.name, mrn: patient.mrn, birthDate: patient.birthDate });
      const [y, m, d] = patient.birthDate.split('-');
      const forms = [patient.birthDate, `${m}/${d}/${y}`, `${d}.${m}.${y}`, `${Number(m)}/${Number(d)}/${y.slice(2)}`, `${y}${m}${d}`];
      const report = `History reviewed (born ${forms.join(', ')}). Prior films under ${patient.mrn} were compared.\nFINDINGS: small nodule.\n`;
      const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'text/plain', bytes: Buffer.from(report) }, steward);
      const [row] = await h.ds.query('SELECT curated_key, deidentification FROM ingestion_assets WHERE asset_id = $1', [asset.assetId]);
      const curated = (await h.storage.getBuffer('curated', row.curated_key)).toString('utf8');
      for (const form of forms) expect(curated).not.toContain(form);
      expect(curated).not.toContain(patient.mrn);
      expect(curated).not.toContain(y);
      expect(curated).toContain('FINDINGS: small nodule.');
      expect(row.deidentification.summary).toMatchObject({ date: forms.length, mrn: 1 });
    });

    it('refuses a DICOM whose header declares more pixels than the configured limit, before rendering, storing nothing', async () => {
      const subjectId = await h.consentingSubject();
      const dicom = createSyntheticDicom({ width: 64, height: 64, rgb: data.items[0].rgb }, syntheticDicomIdentity(new Prng(5), patient));
      // 2000 x 2000 = 4,000,000 pixels: over the configured 1,000,000, under the codec's own
      // default; the pixel data stays 64 x 64, so only a check before rendering says TOO_MANY_PIXELS.
      const big = setUs(setUs(dicom, 0x0028, 0x0010, 2000), 0x0028, 0x0011, 2000);
      let thrown: unknown;
      await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'application/dicom', bytes: big }, steward).catch((e) => (thrown = e));
      expect(thrown).toBeInstanceOf(IngestionException);
      expect((thrown as IngestionException).code).toBe(IngestionErrorCode.AssetRejected);
      expect((thrown as IngestionException).reason).toBe('TOO_MANY_PIXELS');
      expect((thrown as IngestionException).message).toContain(`the limit is ${MAX_PIXELS}`);
      expect(await h.keys(`subjects/${subjectId}/`)).toEqual([]);
      expect(await h.ds.query('SELECT 1 FROM ingestion_assets WHERE subject_id = $1', [subjectId])).toEqual([]);
      expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toEqual([]);
    });
  });
});
