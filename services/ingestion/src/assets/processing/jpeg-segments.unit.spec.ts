import * as jpegJs from 'jpeg-js';
import sharp from 'sharp';
import { encodeRgbJpeg, generateSyntheticDataset } from '@trellis/synthetic';
import { jpegIsCuratedForm, jpegLayout, stripJpegMetadata } from './jpeg-segments';
import { AssetValidationCode, AssetValidationError } from './processing.exception';
import { exifWithArtistAndGps, jfifWithThumbnail, jpegMarkers, jpegSegment, withSegmentsAfterSoi, withSegmentsBeforeScan } from './testing/jpeg-segments';
import { validationError as refusal } from './testing/validation-error';

const SIZE = 48;
const { items } = generateSyntheticDataset({ seed: 5, subjects: 1, itemsPerSubject: 1, imageSize: SIZE });
const rgb = items[0].rgb;
/** jpeg-js output: SOI, JFIF APP0, DQT, SOF0, DHT, SOS, EOI. */
const plain = encodeRgbJpeg(rgb, SIZE, SIZE);

const NAME = 'Jane Fakename';
const exif = exifWithArtistAndGps(NAME, [48, 51, 24], [2, 21, 8]);
const comment = jpegSegment(0xfe, Buffer.from(`Patient: ${NAME}, DOB 1950-02-03, MRN 12345678`, 'latin1'));
const xmp = jpegSegment(0xe1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><dc:creator>${NAME}</dc:creator></x:xmpmeta>`, 'latin1'));
const iptc = jpegSegment(0xed, Buffer.from(`Photoshop 3.0\0 8BIM ${NAME}`, 'latin1'));
const vendor = jpegSegment(0xeb, Buffer.from(`vendor data ${NAME}`, 'latin1'));
/** Everything a camera, a PACS export or an editor plants, before and between the tables. */
const planted = withSegmentsBeforeScan(withSegmentsAfterSoi(plain, exif, xmp, iptc, comment), comment, vendor);

const rawRgba = (b: Buffer) => Buffer.from(jpegJs.decode(b, { useTArray: true, formatAsRGBA: true }).data);
const sharpPixels = (b: Buffer) => sharp(b).raw().toBuffer({ resolveWithObject: true });

/** Deterministic pseudo-random numbers (mulberry32) for the damaged-file sweep. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(stripJpegMetadata.name, () => {
  describe('metadata', () => {
    it('leaves out EXIF (with its GPS position and artist), XMP, IPTC, vendor APPn and comments', () => {
      // The fixture holds what it should: the name, the EXIF and GPS tags, a comment.
      for (const needle of [NAME, 'Exif\0\0', 'Patient:', 'xmpmeta', 'Photoshop']) expect(planted.includes(Buffer.from(needle, 'latin1'))).toBe(true);
      const gpsLatitude = exif.subarray(exif.length - 48, exif.length - 24);
      expect(planted.includes(gpsLatitude)).toBe(true);

      const { bytes, removed } = stripJpegMetadata(planted);
      for (const needle of [NAME, 'Fakename', 'Exif', 'Patient', 'MRN', 'xmpmeta', 'Photoshop', 'vendor']) {
        expect(bytes.includes(Buffer.from(needle, 'latin1'))).toBe(false);
      }
      expect(bytes.includes(gpsLatitude)).toBe(false);
      expect(removed).toBe(6);
      expect(jpegMarkers(bytes).map((m) => m.marker.toString(16))).toEqual(['d8', 'e0', 'db', 'c0', 'c4', 'da', 'd9']);
    });

    it('keeps the file byte for byte when it carries nothing but what decoding needs', () => {
      const { bytes, removed, rewritten } = stripJpegMetadata(plain);
      expect(bytes.equals(plain)).toBe(true);
      expect([removed, rewritten]).toEqual([0, 0]);
    });

    it('is idempotent: stripping the stripped file removes nothing', () => {
      const once = stripJpegMetadata(planted).bytes;
      const twice = stripJpegMetadata(once);
      expect(twice.bytes.equals(once)).toBe(true);
      expect(twice.removed).toBe(0);
    });

    it('drops the JFIF thumbnail (a second image nobody decoded) and keeps the JFIF header', () => {
      expect(plain[3]).toBe(0xe0);
      const thumbnailed = Buffer.concat([plain.subarray(0, 2), jfifWithThumbnail(4, 3, 0x5a), plain.subarray(4 + plain.readUInt16BE(4))]);
      const { bytes, rewritten } = stripJpegMetadata(thumbnailed);
      expect(rewritten).toBe(1);
      expect(bytes.includes(Buffer.alloc(36, 0x5a))).toBe(false);
      const app0 = bytes.subarray(2, 2 + 18);
      expect(app0.readUInt16BE(2)).toBe(16);
      expect(app0.toString('latin1', 4, 9)).toBe('JFIF\0');
      expect([app0[16], app0[17]]).toEqual([0, 0]);
    });

    it('keeps the Adobe marker (it sets the colour transform) without any bytes after its fixed fields', () => {
      const adobe = jpegSegment(0xee, Buffer.concat([Buffer.from('Adobe', 'latin1'), Buffer.from([0, 100, 0, 0, 0, 0, 1]), Buffer.from(NAME, 'latin1')]));
      const { bytes } = stripJpegMetadata(withSegmentsAfterSoi(plain, adobe));
      expect(bytes.includes(Buffer.from(NAME, 'latin1'))).toBe(false);
      expect(bytes.includes(Buffer.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 1]))).toBe(true);
    });

    it('drops fill bytes before markers and the restart-free TEM marker, and keeps DRI', () => {
      const dri = jpegSegment(0xdd, Buffer.from([0, 0]));
      const messy = Buffer.concat([plain.subarray(0, 2), Buffer.from([0xff, 0xff, 0xff, 0x01]), dri, plain.subarray(2)]);
      const { bytes } = stripJpegMetadata(messy);
      expect(bytes.equals(Buffer.concat([plain.subarray(0, 2), dri, plain.subarray(2)]))).toBe(true);
    });
  });

  describe('pixels', () => {
    it('decodes to exactly the same pixels with jpeg-js', () => {
      const { bytes } = stripJpegMetadata(planted);
      expect(bytes.length).toBeLessThan(planted.length);
      expect(rawRgba(bytes).equals(rawRgba(planted))).toBe(true);
      expect(rawRgba(bytes).equals(rawRgba(plain))).toBe(true);
    });

    it.each([
      ['baseline, 4:2:0', { progressive: false, chromaSubsampling: '4:2:0' }],
      ['baseline, 4:4:4', { progressive: false, chromaSubsampling: '4:4:4' }],
      ['progressive (tables between scans)', { progressive: true, chromaSubsampling: '4:2:0' }],
    ] as const)('decodes to exactly the same pixels with sharp (libjpeg): %s, EXIF written by libvips', async (_name, options) => {
      const source = await sharp(Buffer.from(rgb), { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .jpeg({ quality: 85, ...options })
        .withExif({ IFD0: { Artist: NAME, Copyright: NAME, ImageDescription: 'MRN 12345678' } })
        .toBuffer();
      const file = withSegmentsBeforeScan(source, comment);
      expect(file.includes(Buffer.from(NAME, 'latin1'))).toBe(true);
      const { bytes } = stripJpegMetadata(file);
      expect(bytes.includes(Buffer.from(NAME, 'latin1'))).toBe(false);
      expect(bytes.includes(Buffer.from('12345678', 'latin1'))).toBe(false);
      const meta = await sharp(bytes).metadata();
      expect(meta).toMatchObject({ width: SIZE, height: SIZE, isProgressive: options.progressive });
      expect(meta.exif).toBeUndefined();
      const [a, b] = await Promise.all([sharpPixels(file), sharpPixels(bytes)]);
      expect(b.info).toEqual(a.info);
      expect(b.data.equals(a.data)).toBe(true);
      expect(rawRgba(bytes).equals(rawRgba(file))).toBe(true);
    });
  });

  describe('malformed input', () => {
    it.each([
      ['not a JPEG', Buffer.from('GIF89a trailing bytes'), AssetValidationCode.DECODE_FAILED, /start-of-image/],
      ['a segment length below 2', withSegmentsAfterSoi(plain, Buffer.from([0xff, 0xe1, 0x00, 0x01])), AssetValidationCode.DECODE_FAILED, /invalid length 1/],
      [
        'a segment length past the end',
        Buffer.concat([plain.subarray(0, 2), Buffer.from([0xff, 0xe1, 0xff, 0xf0]), Buffer.alloc(20)]),
        AssetValidationCode.TRUNCATED,
        /ends inside a segment/,
      ],
      [
        'a byte where a marker must be',
        Buffer.concat([plain.subarray(0, 2), Buffer.from([0x12, 0x34]), plain.subarray(2)]),
        AssetValidationCode.DECODE_FAILED,
        /malformed marker at offset 2/,
      ],
      ['no end-of-image marker', plain.subarray(0, plain.length - 2), AssetValidationCode.TRUNCATED, /no end-of-image/],
      ['cut inside the scan', plain.subarray(0, plain.length - 40), AssetValidationCode.TRUNCATED, /no end-of-image/],
      ['cut inside the headers', plain.subarray(0, 30), AssetValidationCode.TRUNCATED, /ends inside a segment/],
      ['a second start-of-image', withSegmentsAfterSoi(plain, Buffer.from([0xff, 0xd8])), AssetValidationCode.DECODE_FAILED, /second start-of-image/],
      ['no frame header', Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x03, 0x41, 0xff, 0xd9]), AssetValidationCode.DECODE_FAILED, /no frame header/],
    ])('refuses %s with a reason that quotes no content', (_name, file, code, message) => {
      const err = refusal(() => stripJpegMetadata(file));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).not.toMatch(/Fakename|GIF89a/);
    });

    it('refuses or strips every damaged variant of a file, never throwing anything else and always ending', () => {
      const random = rng(42);
      let refused = 0;
      for (let n = 0; n < 2000; n++) {
        const file = Buffer.from(planted);
        const mode = n % 3;
        if (mode === 0) {
          // Cut anywhere.
          // Cut anywhere before the EOI: always refused.
          expect(() => stripJpegMetadata(file.subarray(0, Math.floor(random() * (file.length - 1))))).toThrow(AssetValidationError);
          refused++;
        } else {
          // Overwrite a few bytes with values that matter to the walk (0xff, 0x00, lengths).
          for (let k = 0; k < 1 + Math.floor(random() * 4); k++)
            file[Math.floor(random() * file.length)] = [0xff, 0x00, 0xd9, 0xda, 0x01][Math.floor(random() * 5)];
          refused += +tryStrip(file);
        }
      }
      expect(refused).toBeGreaterThan(667);
    });
  });
});

/**
 * True when refused with an AssetValidationError; any other error fails the test. (What a
 * damaged file that passes the walk keeps is the decoder's to judge: it runs first.)
 */
function tryStrip(file: Buffer): boolean {
  try {
    stripJpegMetadata(file);
    return false;
  } catch (err) {
    if (err instanceof AssetValidationError) return true;
    throw err;
  }
}

describe(jpegIsCuratedForm.name, () => {
  it('accepts an 8-bit three-component JPEG without an ICC profile', () => {
    expect(jpegLayout(planted)).toEqual({ components: 3, precision: 8, iccProfile: false });
    expect(jpegIsCuratedForm(planted)).toBe(true);
  });

  it('sends a JPEG with an embedded ICC profile to re-encoding (sRGB PNG), since its colours depend on the profile', async () => {
    const withIcc = await sharp(Buffer.from(rgb), { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .jpeg()
      .withIccProfile('p3')
      .toBuffer();
    expect(jpegLayout(withIcc).iccProfile).toBe(true);
    expect(jpegIsCuratedForm(withIcc)).toBe(false);
  });

  it('sends a greyscale JPEG to re-encoding (the curated form is RGB)', async () => {
    const grey = await sharp(Buffer.from(rgb), { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    expect(jpegLayout(grey).components).toBe(1);
    expect(jpegIsCuratedForm(grey)).toBe(false);
  });
});
