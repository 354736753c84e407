import { createHash, randomUUID } from 'node:crypto';
import { PNG } from 'pngjs';
import { encodeRgbJpeg, encodeRgbPng, generateSyntheticDataset } from '@trellis/synthetic';
import { ASSET_MIME_TYPES } from '../../services/ingestion/src/assets/asset-processor';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { IngestionErrorCode, IngestionException } from '../../services/ingestion/src/ingestion.exception';
import { NOT_UTF8_REPORT, pngDeclaring } from './bad-files';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(IngestAssetUseCase.name, () => {
  let h: IngestionHarness;
  const data = generateSyntheticDataset({ seed: 4, subjects: 1, itemsPerSubject: 2, imageSize: 64, imageFormat: 'png' });
  const png = data.items[0].encoded!.bytes;
  const jpeg = encodeRgbJpeg(data.items[1].rgb, 64, 64);

  beforeAll(async () => {
    h = await startIngestionHarness({ maxPixels: 40_000_000 });
  });
  afterAll(() => h.close());

  async function rejection(subject: string, bytes: Buffer, declaredMimeType: string): Promise<{ reason: string; message: string }> {
    const before = await h.keys();
    const [{ rows: rowsBefore }] = await h.ds.query('SELECT count(*)::int AS rows FROM ingestion_assets');
    let thrown: unknown;
    await h.ingest.ingest({ subject, declaredMimeType, bytes }, steward).catch((err) => (thrown = err));
    expect(thrown).toBeInstanceOf(IngestionException);
    const err = thrown as IngestionException;
    expect(err.code).toBe(IngestionErrorCode.AssetRejected);
    // Nothing stored: no blob anywhere, no read-model row, no intent left.
    expect(await h.keys()).toEqual(before);
    const [{ rows }] = await h.ds.query('SELECT count(*)::int AS rows FROM ingestion_assets');
    expect(rows).toBe(rowsBefore);
    const [{ intents }] = await h.ds.query('SELECT count(*)::int AS intents FROM ingestion_upload_intents');
    expect(intents).toBe(0);
    // The audit record: one AssetRejected event with the reason, the hash and never the content.
    const [event] = await h.ds.query(
      `SELECT data FROM trellis_events WHERE log = 'ingestion' AND type = 'AssetRejected' AND data->>'sha256' = $1 ORDER BY position DESC LIMIT 1`,
      [sha(bytes)],
    );
    // A declared type the platform does not accept is input: the event records only that it was unsupported.
    const recordedType = ASSET_MIME_TYPES[declaredMimeType] ? declaredMimeType : 'unsupported';
    expect(event.data).toMatchObject({ reasonCode: err.reason, size: bytes.length, declaredMimeType: recordedType });
    expect(err.message).toBe(`${err.reason}: ${event.data.message}`);
    return { reason: err.reason!, message: event.data.message };
  }

  describe('ingest', () => {
    it('stores the original in raw and the JPEG (nothing to strip: the same bytes) plus a 224x224 PNG derivative in curated, under the subject prefix', async () => {
      const subjectId = await h.consentingSubject();
      const result = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/jpeg', bytes: jpeg }, steward);
      expect(result).toMatchObject({
        subjectId,
        duplicate: false,
        kind: 'image',
        mimeType: 'image/jpeg',
        sha256: sha(jpeg),
        size: jpeg.length,
        width: 64,
        height: 64,
      });
      const [row] = await h.ds.query('SELECT * FROM ingestion_assets WHERE asset_id = $1', [result.assetId]);
      expect(row.raw_key).toBe(`subjects/${subjectId}/${sha(jpeg)}`);
      expect((await h.storage.getBuffer('raw', row.raw_key)).equals(jpeg)).toBe(true);
      // jpeg-js wrote only JFIF and the tables: the curated JPEG is the upload itself.
      expect((await h.storage.getBuffer('curated', row.curated_key)).equals(jpeg)).toBe(true);
      const event = (await h.store.readStream('ingestion', `asset-${result.assetId}`)).find((e) => e.type === 'AssetIngested');
      expect(event).toMatchObject({ type: 'AssetIngested', schemaVersion: 2, data: { storage: { curatedMediaType: 'image/jpeg' } } });
      const derivative = await h.storage.getBuffer('curated', row.derivative_key);
      expect(sha(derivative)).toBe(row.derivative_sha256);
      const d = PNG.sync.read(derivative);
      expect([d.width, d.height]).toEqual([224, 224]);
      expect((await h.keys(`subjects/${subjectId}/`)).length).toBe(3);
    });

    it('treats the same bytes for the same subject as one asset, and the same bytes for another subject as another', async () => {
      const subjectId = await h.consentingSubject();
      const first = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: png }, steward);
      const again = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: png }, steward);
      expect(again).toEqual({ ...first, duplicate: true });
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM trellis_events WHERE type = 'AssetIngested' AND data->>'subjectId' = $1`, [subjectId]);
      expect(n).toBe(1);
      const other = await h.consentingSubject();
      const theirs = await h.ingest.ingest({ subject: other, declaredMimeType: 'image/png', bytes: png }, steward);
      expect(theirs.assetId).not.toBe(first.assetId);
      expect(theirs.duplicate).toBe(false);
    });

    it('answers concurrent uploads of the same bytes with one asset', async () => {
      const subjectId = await h.consentingSubject();
      const bytes = encodeRgbPng(data.items[1].rgb, 64, 64);
      const results = await Promise.all([1, 2, 3].map(() => h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes }, steward)));
      expect(new Set(results.map((r) => r.assetId)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate).length).toBe(1);
      expect((await h.keys(`subjects/${subjectId}/`)).length).toBe(3);
    });

    it('resolves a subject by its external reference and links a report to the image it describes', async () => {
      const externalRef = `ext-${Date.now()}`;
      const subjectId = await h.consentingSubject({ externalRef, name: 'Grace Hoffmann' });
      const image = await h.ingest.ingest({ subject: externalRef, declaredMimeType: 'image/png', bytes: png }, steward);
      expect(image.subjectId).toBe(subjectId);
      const report = await h.ingest.ingest(
        {
          subject: subjectId,
          declaredMimeType: 'text/plain',
          describesAssetId: image.assetId,
          bytes: Buffer.from('Patient Grace Hoffmann: small nodule, upper left zone.\n'),
        },
        steward,
      );
      const [row] = await h.ds.query('SELECT describes_asset_id, curated_key FROM ingestion_assets WHERE asset_id = $1', [report.assetId]);
      expect(row.describes_asset_id).toBe(image.assetId);
      const text = (await h.storage.getBuffer('curated', row.curated_key)).toString('utf8');
      expect(text).not.toContain('Hoffmann');
      expect(text).toContain('small nodule');
    });

    describe('refuses, storing nothing but the AssetRejected event', () => {
      it('a truncated JPEG', async () => {
        const subjectId = await h.consentingSubject();
        const r = await rejection(subjectId, jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'image/jpeg');
        expect(r.reason).toBe('TRUNCATED');
      });

      it('a PNG declaring 50,000 x 50,000 pixels, before decoding it', async () => {
        const subjectId = await h.consentingSubject();
        const r = await rejection(subjectId, pngDeclaring(50_000, 50_000), 'image/png');
        expect(r.reason).toBe('TOO_MANY_PIXELS');
        expect(r.message).toMatch(/50000/);
      });

      it('bytes whose magic number does not match the declared type', async () => {
        const subjectId = await h.consentingSubject();
        const r = await rejection(subjectId, png, 'image/jpeg');
        expect(r.reason).toBe('WRONG_MAGIC');
        expect((await rejection(subjectId, png, 'application/dicom')).reason).toBe('WRONG_MAGIC');
      });

      it('an empty file', async () => {
        const subjectId = await h.consentingSubject();
        expect((await rejection(subjectId, Buffer.alloc(0), 'image/png')).reason).toBe('EMPTY_FILE');
      });

      it('a report that is not UTF-8', async () => {
        const subjectId = await h.consentingSubject();
        expect((await rejection(subjectId, NOT_UTF8_REPORT, 'text/plain')).reason).toBe('NOT_UTF8');
      });

      it('an unsupported declared type', async () => {
        const subjectId = await h.consentingSubject();
        expect((await rejection(subjectId, png, 'image/gif')).reason).toBe('UNSUPPORTED_TYPE');
      });

      it('an unknown subject, without naming the reference in the event', async () => {
        const r = await rejection('someone-never-registered', png, 'image/png');
        expect(r.reason).toBe('UNKNOWN_SUBJECT');
        const [event] = await h.ds.query(
          `SELECT data FROM trellis_events WHERE type = 'AssetRejected' AND data->>'reasonCode' = 'UNKNOWN_SUBJECT' ORDER BY position DESC LIMIT 1`,
        );
        expect(event.data.subjectId).toBeNull();
        expect(JSON.stringify(event.data)).not.toContain('someone-never-registered');
      });

      it('a subject without consent, and one whose consent was withdrawn', async () => {
        const { subjectId } = await h.subjects.register({ externalRef: `ext-${randomUUID()}` }, steward);
        expect((await rejection(subjectId, png, 'image/png')).reason).toBe('NO_CONSENT');
        const { consentId } = await h.consents.record(subjectId, { decision: 'permit', purposes: ['research'] }, steward);
        await h.consents.withdraw(subjectId, consentId, {}, steward);
        expect((await rejection(subjectId, png, 'image/png')).reason).toBe('NO_CONSENT');
      });

      it("a report that claims to describe another subject's image", async () => {
        const a = await h.consentingSubject();
        const b = await h.consentingSubject();
        const image = await h.ingest.ingest({ subject: a, declaredMimeType: 'image/png', bytes: png }, steward);
        const before = await h.keys(`subjects/${b}/`);
        let thrown: unknown;
        await h.ingest
          .ingest({ subject: b, declaredMimeType: 'text/plain', describesAssetId: image.assetId, bytes: Buffer.from('report') }, steward)
          .catch((e) => (thrown = e));
        expect((thrown as IngestionException).reason).toBe('INVALID_DESCRIBES');
        expect(await h.keys(`subjects/${b}/`)).toEqual(before);
      });
    });
  });
});
