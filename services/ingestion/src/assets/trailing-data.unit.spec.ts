import { encodeRgbJpeg, encodeRgbPng, generateSyntheticDataset } from '@trellis/synthetic';
import { processAsset } from './asset-processor';
import { decodeImage, ImageCodec, imageDataEnd, loadSharp, nativeCodec, pureJsCodec } from './processing';

const limits = { maxBytes: 1 << 22, maxPixels: 1 << 22, dicomUidKey: 'k' };
const subject = { pseudonym: 'p', knownNames: [] };
const { items } = generateSyntheticDataset({ seed: 11, subjects: 1, itemsPerSubject: 1, imageSize: 48 });
const rgb = items[0].rgb;
const png = encodeRgbPng(rgb, 48, 48);
const jpeg = encodeRgbJpeg(rgb, 48, 48);
const SECRET = Buffer.from('Patient: Jane Fakename, DOB 1950-02-03, MRN 12345678');

const codecs: ImageCodec[] = [pureJsCodec, nativeCodec(loadSharp({})!)];

describe('issue 11 item 4: personal data reaches the training area', () => {
  describe(imageDataEnd.name, () => {
    it('finds the end of the image data, before anything appended', () => {
      expect(imageDataEnd(png, 'image/png')).toBe(png.length);
      expect(imageDataEnd(Buffer.concat([png, SECRET]), 'image/png')).toBe(png.length);
      expect(imageDataEnd(jpeg, 'image/jpeg')).toBe(jpeg.length);
      expect(imageDataEnd(Buffer.concat([jpeg, SECRET, Buffer.from([0xff, 0xd9])]), 'image/jpeg')).toBe(jpeg.length);
    });
  });

  describe.each(codecs.map((c) => [c.name, c] as const))('processAsset on the %s codec', (_name, codec) => {
    it.each([
      ['PNG with text after IEND', 'image/png', Buffer.concat([png, SECRET])],
      ['JPEG with text after EOI', 'image/jpeg', Buffer.concat([jpeg, SECRET])],
      ['JPEG with text and another EOI after EOI', 'image/jpeg', Buffer.concat([jpeg, SECRET, Buffer.from([0xff, 0xd9])])],
    ])('curates a %s without the trailing bytes, and records their removal', async (_what, mimeType, file) => {
      const r = await processAsset(file, mimeType, limits, subject, codec);
      for (const out of [r.curated.bytes, r.derivative!]) expect(out.includes(Buffer.from('Fakename'))).toBe(false);
      expect(r.curated.contentType).toBe(mimeType);
      expect(imageDataEnd(r.curated.bytes, mimeType)).toBe(r.curated.bytes.length);
      expect(decodeImage(r.curated.bytes, mimeType)).toMatchObject({ width: 48, height: 48 });
      expect(r.deidentification.options).toContain('trailing-data-removed');
      expect(r.deidentification.summary['trailing-bytes-removed']).toBe(file.length - (mimeType === 'image/png' ? png.length : jpeg.length));
    });

    it('records nothing for an image without trailing bytes', async () => {
      const r = await processAsset(png, 'image/png', limits, subject, codec);
      expect(r.deidentification.options).not.toContain('trailing-data-removed');
      expect(r.curated.bytes.equals(png)).toBe(true);
    });
  });
});
