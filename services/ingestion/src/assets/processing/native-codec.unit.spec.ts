import { PNG } from 'pngjs';
import { encodeRgbJpeg, encodeRgbPng, generateSyntheticDataset } from '@trellis/synthetic';
import { checkPngChunks, decodeImage } from './image-codec';
import { defaultImageCodec, ImageCodec, imageCodecInfo, loadSharp, nativeCodec, pngIsCuratedForm, pureJsCodec, stripPngChunks } from './native-codec';
import { AssetValidationCode, AssetValidationError } from './processing.exception';
import { pngChunk, pngChunkTypes as chunkTypes } from './testing/png-chunks';

const MAX_PIXELS = 4096 * 4096;

/** The PNG with `chunks` inserted right after IHDR. */
function withChunksAfterIhdr(png: Buffer, chunks: Buffer[]): Buffer {
  const afterIhdr = 8 + 12 + 13;
  return Buffer.concat([png.subarray(0, afterIhdr), ...chunks, png.subarray(afterIhdr)]);
}

async function codeOf(p: Promise<unknown>): Promise<AssetValidationCode | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AssetValidationError) return err.code;
    throw err;
  }
  return undefined;
}

const { items } = generateSyntheticDataset({ seed: 31, subjects: 1, itemsPerSubject: 1, imageSize: 48 });
const rgb = items[0].rgb;
const png = encodeRgbPng(rgb, 48, 48);
const jpeg = encodeRgbJpeg(rgb, 48, 48);

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

describe(loadSharp.name, () => {
  it('loads sharp in this repository (prebuilt from npm, its install script denied)', () => {
    expect(loadSharp({})).not.toBeNull();
    expect(imageCodecInfo({})).toEqual({ codec: 'native', detail: expect.stringMatching(/^sharp 0\.34\.\d+, libvips \d+\.\d+/) });
    expect(defaultImageCodec({}).name).toBe('native');
  });

  it('keeps the pure-JS codec when INGESTION_IMAGE_CODEC=js', () => {
    const env = { INGESTION_IMAGE_CODEC: 'js' };
    expect(loadSharp(env)).toBeNull();
    expect(defaultImageCodec(env)).toBe(pureJsCodec);
    expect(imageCodecInfo(env)).toEqual({ codec: 'pure-js', detail: 'jpeg-js + pngjs; INGESTION_IMAGE_CODEC=js' });
  });

  it('falls back to the pure-JS codec, and says why, where sharp cannot load', () => {
    jest.isolateModules(() => {
      jest.doMock('sharp', () => {
        throw new Error('Could not load the "sharp" module using the linux-arm64 runtime');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the module inside jest.isolateModules
      const isolated = require('./native-codec') as typeof import('./native-codec');
      expect(isolated.loadSharp({})).toBeNull();
      expect(isolated.defaultImageCodec({}).name).toBe('pure-js');
      expect(isolated.imageCodecInfo({})).toEqual({
        codec: 'pure-js',
        detail: expect.stringContaining('sharp unavailable: Could not load the "sharp" module'),
      });
    });
    jest.dontMock('sharp');
  });
});

describe(nativeCodec.name, () => {
  const native: ImageCodec = nativeCodec(loadSharp({})!);

  describe('decode', () => {
    it('decodes an RGB PNG exactly and a JPEG as closely as jpeg-js does', async () => {
      const p = await native.decode(png, 'image/png', MAX_PIXELS);
      expect([p.width, p.height]).toEqual([48, 48]);
      expect(Buffer.from(p.rgb).equals(Buffer.from(rgb))).toBe(true);
      const j = await native.decode(jpeg, 'image/jpeg', MAX_PIXELS);
      expect([j.width, j.height]).toEqual([48, 48]);
      expect(meanAbsDiff(j.rgb, rgb)).toBeLessThan(12);
      // libjpeg and jpeg-js differ in IDCT and chroma upsampling rounding only.
      expect(meanAbsDiff(j.rgb, decodeImage(jpeg, 'image/jpeg').rgb)).toBeLessThan(2);
    });

    it('gives the pure-JS result for grey, alpha and 16-bit PNGs: RGB, alpha composited onto black', async () => {
      const w = 5;
      const h = 4;
      const rgba = Buffer.alloc(w * h * 4);
      for (let i = 0; i < w * h; i++) rgba.set([(i * 37) % 256, (i * 71) % 256, (i * 113) % 256, (i * 53) % 256], i * 4);
      for (const [name, options] of [
        ['RGBA', { colorType: 6 }],
        ['grey', { colorType: 0 }],
        ['grey + alpha', { colorType: 4 }],
        ['16-bit RGB', { colorType: 2, bitDepth: 16 }],
      ] as const) {
        const file = PNG.sync.write(Object.assign(new PNG({ width: w, height: h }), { data: rgba }), options as never);
        const ours = decodeImage(file, 'image/png');
        const theirs = await native.decode(file, 'image/png', MAX_PIXELS);
        expect({ name, width: theirs.width, height: theirs.height }).toEqual({ name, width: w, height: h });
        const maxDiff = Math.max(...Array.from(ours.rgb, (v, i) => Math.abs(v - theirs.rgb[i])));
        // 8-bit: identical. 16-bit: pngjs and libvips may round the reduction to 8 bits apart.
        expect({ name, maxDiff: name === '16-bit RGB' ? Math.min(maxDiff, 1) : maxDiff }).toEqual({
          name,
          maxDiff: name === '16-bit RGB' ? expect.any(Number) : 0,
        });
        expect({ name, maxDiff: maxDiff <= 1 }).toEqual({ name, maxDiff: true });
      }
    });

    it('refuses damaged files with the reason codes of the pure-JS path, our checks first', async () => {
      const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
      const cut = Math.floor((sos + jpeg.length) / 2);
      const corruptPng = Buffer.from(png);
      corruptPng[45] ^= 0xff;
      const cases: [string, Buffer, string][] = [
        ['JPEG without EOI', jpeg.subarray(0, jpeg.length - 2), 'image/jpeg'],
        ['JPEG cut mid-scan', jpeg.subarray(0, cut), 'image/jpeg'],
        ['JPEG cut mid-scan, EOI glued on', Buffer.concat([jpeg.subarray(0, cut), Buffer.from([0xff, 0xd9])]), 'image/jpeg'],
        ['PNG without IEND', png.subarray(0, png.length - 12), 'image/png'],
        ['PNG cut in half', png.subarray(0, Math.floor(png.length / 2)), 'image/png'],
        ['PNG with a corrupt IDAT', corruptPng, 'image/png'],
        ['empty', Buffer.alloc(0), 'image/png'],
        ['not an image type', png, 'application/dicom'],
      ];
      for (const [name, bytes, mimeType] of cases) {
        const expected = await codeOf(pureJsCodec.decode(bytes, mimeType, MAX_PIXELS));
        expect(expected).toBeDefined();
        expect({ name, code: await codeOf(native.decode(bytes, mimeType, MAX_PIXELS)) }).toEqual({ name, code: expected });
      }
      // libjpeg would decode this one (grey-padded); our EOI check refuses it first.
      expect(await codeOf(native.decode(jpeg.subarray(0, jpeg.length - 2), 'image/jpeg', MAX_PIXELS))).toBe(AssetValidationCode.TRUNCATED);
    });
  });

  describe('encodePng', () => {
    it('writes an 8-bit truecolour PNG with no ancillary chunks that decodes to the same pixels', async () => {
      const out = await native.encodePng(rgb, 48, 48);
      expect(chunkTypes(out).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'IEND']);
      expect([out[24], out[25]]).toEqual([8, 2]); // bit depth, colour type
      expect(Buffer.from(decodeImage(out, 'image/png').rgb).equals(Buffer.from(rgb))).toBe(true);
      await expect(native.encodePng(rgb, 48, 47)).rejects.toThrow(RangeError);
    });
  });
});

describe(stripPngChunks.name, () => {
  it('removes text, time, EXIF, ICC and private chunks, keeps the critical and rendering ones, bit-identical pixels', () => {
    const dirty = withChunksAfterIhdr(png, [
      pngChunk('tEXt', Buffer.from('Author\0Jane Fakename', 'latin1')),
      pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])),
      pngChunk('tIME', Buffer.from([0x07, 0xb2, 1, 2, 3, 4, 5])),
      pngChunk('eXIf', Buffer.from('MM\0*Jane Fakename', 'latin1')),
      pngChunk('iCCP', Buffer.concat([Buffer.from('Jane Fakename profile\0\0', 'latin1'), Buffer.from([0x78, 0x9c, 0x03, 0, 0, 0, 0, 1])])),
      pngChunk('prVt', Buffer.from('Jane Fakename')),
      pngChunk('zTXt', Buffer.from('Comment\0\0xx', 'latin1')),
    ]);
    const { bytes, removed } = stripPngChunks(dirty);
    expect(removed).toBe(6);
    expect(bytes.includes(Buffer.from('Fakename'))).toBe(false);
    expect(chunkTypes(bytes).filter((t) => t !== 'IDAT')).toEqual(['IHDR', 'gAMA', 'IEND']);
    expect(() => checkPngChunks(bytes)).not.toThrow();
    expect(Buffer.from(decodeImage(bytes, 'image/png').rgb).equals(Buffer.from(rgb))).toBe(true);
    expect(stripPngChunks(png)).toEqual({ bytes: png, removed: 0 });
  });
});

describe(pngIsCuratedForm.name, () => {
  it('is true only for 8-bit truecolour without transparency', () => {
    expect(pngIsCuratedForm(png)).toBe(true);
    expect(pngIsCuratedForm(withChunksAfterIhdr(png, [pngChunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))]))).toBe(false);
    const rgba = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 200) }), { colorType: 6 });
    expect(pngIsCuratedForm(rgba)).toBe(false);
    const grey = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 200) }), { colorType: 0 });
    expect(pngIsCuratedForm(grey)).toBe(false);
    const deep = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 200) }), { colorType: 2, bitDepth: 16 });
    expect(pngIsCuratedForm(deep)).toBe(false);
  });
});
