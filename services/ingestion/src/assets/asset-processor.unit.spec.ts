import { PNG } from 'pngjs';
import sharp from 'sharp';
import { encodeRgbJpeg, encodeRgbPng, generateSyntheticDataset } from '@trellis/synthetic';
import { MODEL_INPUT_SIZE, processAsset } from './asset-processor';
import { MAX_REPORT_CHARS } from '@trellis/deidentify';
import { AssetValidationError, decodeImage, ImageCodec, loadSharp, nativeCodec, pureJsCodec } from './processing';
import { pngChunk, pngChunkTypes as chunkTypes } from './processing/testing/png-chunks';

const limits = { maxBytes: 1 << 22, maxPixels: 1 << 22, dicomUidKey: 'k' };
const subject = { pseudonym: 'p', knownNames: [] };
const FAKE_NAME = Buffer.from('Jane Fakename');

const { items } = generateSyntheticDataset({ seed: 17, subjects: 1, itemsPerSubject: 1, imageSize: 64 });
const rgb = items[0].rgb;
const png = encodeRgbPng(rgb, 64, 64);
const jpeg = encodeRgbJpeg(rgb, 64, 64);

function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The JPEG with an EXIF APP1 (artist, date) and a COM segment naming someone, after SOI. */
const jpegWithMetadata = Buffer.concat([
  jpeg.subarray(0, 2),
  segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0MM\0*Artist=', 'latin1'), FAKE_NAME, Buffer.from(';DateTimeOriginal=1970:01:02 03:04:05', 'latin1')])),
  segment(0xfe, Buffer.concat([Buffer.from('scanned for ', 'latin1'), FAKE_NAME])),
  jpeg.subarray(2),
]);

/** The PNG with tEXt naming someone, tIME and eXIf, after IHDR. */
const pngWithMetadata = Buffer.concat([
  png.subarray(0, 33),
  pngChunk('tEXt', Buffer.concat([Buffer.from('Author\0', 'latin1'), FAKE_NAME])),
  pngChunk('tIME', Buffer.from([0x07, 0xb2, 1, 2, 3, 4, 5])),
  pngChunk('eXIf', Buffer.concat([Buffer.from('MM\0*', 'latin1'), FAKE_NAME])),
  png.subarray(33),
]);

const codecs: ImageCodec[] = [pureJsCodec, nativeCodec(loadSharp({})!)];

describe(processAsset.name, () => {
  describe.each(codecs.map((c) => [c.name, c] as const))('on the %s codec', (_name, codec) => {
    it('curates a JPEG carrying EXIF and a comment as the same JPEG without them: same scan bytes, same pixels', async () => {
      expect(jpegWithMetadata.includes(FAKE_NAME)).toBe(true);
      const dirty = await processAsset(jpegWithMetadata, 'image/jpeg', limits, subject, codec);
      const clean = await processAsset(jpeg, 'image/jpeg', limits, subject, codec);
      for (const out of [dirty.curated.bytes, dirty.derivative!]) {
        expect(out.includes(FAKE_NAME)).toBe(false);
        expect(out.includes(Buffer.from('1970:01:02'))).toBe(false);
      }
      expect(chunkTypes(dirty.derivative!).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'IEND']);
      expect(dirty.curated.contentType).toBe('image/jpeg');
      // jpeg-js wrote nothing but JFIF and the tables: the original without the two planted segments.
      expect(dirty.curated.bytes.equals(jpeg)).toBe(true);
      expect(clean.curated.bytes.equals(jpeg)).toBe(true);
      expect(Buffer.from(decodeImage(dirty.curated.bytes, 'image/jpeg').rgb).equals(Buffer.from(decodeImage(jpegWithMetadata, 'image/jpeg').rgb))).toBe(true);
      expect(dirty.derivative!.equals(clean.derivative!)).toBe(true);
      expect(dirty.deidentification).toEqual({
        method: 'none',
        options: ['metadata-segments-removed'],
        summary: { 'jpeg-segments-removed': 2, 'jpeg-headers-rewritten': 0 },
      });
    });

    it('curates a JPEG with an ICC profile as an sRGB PNG, without the profile', async () => {
      const tagged = await sharp(Buffer.from(rgb), { raw: { width: 64, height: 64, channels: 3 } })
        .jpeg()
        .withIccProfile('p3')
        .toBuffer();
      const r = await processAsset(tagged, 'image/jpeg', limits, subject, codec);
      expect(r.curated.contentType).toBe('image/png');
      expect(chunkTypes(r.curated.bytes).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'IEND']);
      expect(r.deidentification.options).toEqual(['re-encoded-without-metadata']);
    });

    it('curates an 8-bit RGB PNG as its own bytes without its text, time and EXIF chunks (lossless)', async () => {
      expect(pngWithMetadata.includes(FAKE_NAME)).toBe(true);
      const r = await processAsset(pngWithMetadata, 'image/png', limits, subject, codec);
      expect(r.curated.bytes.includes(FAKE_NAME)).toBe(false);
      expect(r.derivative!.includes(FAKE_NAME)).toBe(false);
      expect(r.curated.bytes.equals(png)).toBe(true);
      expect(Buffer.from(decodeImage(r.curated.bytes, 'image/png').rgb).equals(Buffer.from(rgb))).toBe(true);
      expect(r.curated.contentType).toBe('image/png');
      expect(r.deidentification).toEqual({ method: 'none', options: ['metadata-chunks-removed'], summary: { 'png-chunks-removed': 3 } });
      expect([r.width, r.height]).toEqual([64, 64]);
      const d = PNG.sync.read(r.derivative!);
      expect([d.width, d.height]).toEqual([MODEL_INPUT_SIZE, MODEL_INPUT_SIZE]);
    });

    it('re-encodes a PNG with alpha as RGB composited onto black', async () => {
      const rgba = Buffer.alloc(4 * 2 * 4);
      for (let i = 0; i < 8; i++) rgba.set([200, 100, 50, i < 4 ? 255 : 0], i * 4);
      const file = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 2 }), { data: rgba }), { colorType: 6 });
      const r = await processAsset(file, 'image/png', limits, subject, codec);
      expect(chunkTypes(r.curated.bytes).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'IEND']);
      expect(r.curated.bytes[25]).toBe(2); // truecolour, no alpha
      expect(Array.from(decodeImage(r.curated.bytes, 'image/png').rgb)).toEqual([...Array(4).fill([200, 100, 50]).flat(), ...Array(12).fill(0)]);
      expect(r.deidentification.options).toEqual(['re-encoded-without-metadata']);
    });
  });

  it('gives the same result on both codecs: exactly for PNG, within decoder rounding for JPEG', async () => {
    const [js, native] = codecs;
    for (const [bytes, mimeType] of [
      [pngWithMetadata, 'image/png'],
      [jpegWithMetadata, 'image/jpeg'],
    ] as const) {
      const a = await processAsset(bytes, mimeType, limits, subject, js);
      const b = await processAsset(bytes, mimeType, limits, subject, native);
      expect({ ...b, curated: null, derivative: null, stageMs: null }).toEqual({ ...a, curated: null, derivative: null, stageMs: null });
      expect(b.curated.contentType).toBe(mimeType);
      // A JPEG is curated byte for byte the same on both paths (nothing is encoded).
      if (mimeType === 'image/jpeg') expect(b.curated.bytes.equals(a.curated.bytes)).toBe(true);
      const [ca, cb] = [a.curated.bytes, b.curated.bytes].map((x) => decodeImage(x, mimeType).rgb);
      const [da, db] = [a.derivative!, b.derivative!].map((x) => decodeImage(x, 'image/png').rgb);
      const maxDiff = (x: Uint8Array, y: Uint8Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
      const tolerance = mimeType === 'image/png' ? 0 : 8;
      expect({ mimeType, curated: maxDiff(ca, cb) <= tolerance, derivative: maxDiff(da, db) <= tolerance }).toEqual({
        mimeType,
        curated: true,
        derivative: true,
      });
    }
  });

  it('refuses a report whose text is over MAX_REPORT_CHARS as TOO_LARGE, before redacting it', async () => {
    const long = Buffer.from('a.'.repeat(MAX_REPORT_CHARS / 2 + 1), 'utf8');
    const err = await processAsset(long, 'text/plain', { ...limits, maxBytes: long.length }, subject).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssetValidationError);
    expect(err).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/limit is 1000000/) });
  });
});
