import { deflateSync } from 'node:zlib';
import { encodeRgbJpeg, encodeRgbPng, generateSyntheticDataset, renderFinding } from '@trellis/synthetic';
import { decodeImage, encodePng, resizeForModel } from './image-codec';
import { probeImage } from './image-probe';
import { AssetValidationCode, AssetValidationError } from './processing.exception';
import { pngDeclaring } from './testing/png-chunks';
import { referenceResizeArea } from './testing/resize-reference';
import { detectMimeType } from './sniff';

const LIMITS = { maxBytes: 10 * 1024 * 1024, maxPixels: 4096 * 4096 };

function codeOf(fn: () => unknown): AssetValidationCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AssetValidationError) return err.code;
    throw err;
  }
  return undefined;
}

/** A small, well-formed PNG whose IHDR declares 50,000 x 50,000 (valid CRCs): a decompression bomb. */
function bombPng(): Buffer {
  // A few rows of zeros deflate to almost nothing; a decoder would allocate 7.5 GB first.
  return pngDeclaring(50_000, 50_000, deflateSync(Buffer.alloc(150_001 * 4)));
}

const { items } = generateSyntheticDataset({ seed: 21, subjects: 1, itemsPerSubject: 1, imageSize: 40 });
const rgb = items[0].rgb;
const png = encodeRgbPng(rgb, 40, 40);
const jpeg = encodeRgbJpeg(rgb, 40, 40);

describe(detectMimeType.name, () => {
  it('recognises PNG, JPEG and DICOM by their magic numbers only', () => {
    expect(detectMimeType(png)).toBe('image/png');
    expect(detectMimeType(jpeg)).toBe('image/jpeg');
    const dicom = Buffer.concat([Buffer.alloc(128, 0xaa), Buffer.from('DICM'), Buffer.alloc(10)]);
    expect(detectMimeType(dicom)).toBe('application/dicom');
    expect(detectMimeType(Buffer.from('GIF89a......'))).toBeNull();
    expect(detectMimeType(Buffer.alloc(0))).toBeNull();
    expect(detectMimeType(Buffer.concat([Buffer.alloc(127), Buffer.from('DICM')]))).toBeNull();
  });
});

describe(probeImage.name, () => {
  it('reads dimensions from the PNG and JPEG headers', () => {
    expect(probeImage(png, 'image/png', LIMITS)).toEqual({ mimeType: 'image/png', width: 40, height: 40 });
    const wide = encodeRgbJpeg(new Uint8Array(24 * 10 * 3), 24, 10);
    expect(probeImage(wide, 'image/jpeg', LIMITS)).toEqual({ mimeType: 'image/jpeg', width: 24, height: 10 });
  });

  it('rejects a PNG declaring 50,000 x 50,000 from its header, without decoding', () => {
    const bomb = bombPng();
    expect(bomb.length).toBeLessThan(20_000);
    let err: AssetValidationError | undefined;
    try {
      probeImage(bomb, 'image/png', LIMITS);
    } catch (e) {
      err = e as AssetValidationError;
    }
    expect(err?.code).toBe(AssetValidationCode.TOO_MANY_PIXELS);
    expect(err?.message).toContain('50000x50000');
  });

  it('rejects a JPEG whose frame header declares 60,000 x 60,000, from the header', () => {
    const bomb = Buffer.from(jpeg);
    const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
    bomb.writeUInt16BE(60_000, sof + 5);
    bomb.writeUInt16BE(60_000, sof + 7);
    expect(codeOf(() => probeImage(bomb, 'image/jpeg', LIMITS))).toBe(AssetValidationCode.TOO_MANY_PIXELS);
  });

  it('rejects an empty file, a file over maxBytes, and a declared type the bytes do not match', () => {
    expect(codeOf(() => probeImage(Buffer.alloc(0), 'image/png', LIMITS))).toBe(AssetValidationCode.EMPTY_FILE);
    expect(codeOf(() => probeImage(png, 'image/png', { ...LIMITS, maxBytes: png.length - 1 }))).toBe(AssetValidationCode.TOO_LARGE);
    expect(codeOf(() => probeImage(jpeg, 'image/png', LIMITS))).toBe(AssetValidationCode.WRONG_MAGIC);
    expect(codeOf(() => probeImage(png, 'image/jpeg', LIMITS))).toBe(AssetValidationCode.WRONG_MAGIC);
    expect(codeOf(() => probeImage(Buffer.from('%PDF-1.4 ...'), 'image/png', LIMITS))).toBe(AssetValidationCode.WRONG_MAGIC);
    expect(codeOf(() => probeImage(png, 'image/gif', LIMITS))).toBe(AssetValidationCode.UNSUPPORTED_TYPE);
  });

  it('says a JPEG cut before its frame header is truncated', () => {
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    expect(codeOf(() => probeImage(jpeg.subarray(0, sof), 'image/jpeg', LIMITS))).toBe(AssetValidationCode.TRUNCATED);
  });
});

describe(decodeImage.name, () => {
  it('decodes PNG exactly and JPEG closely', () => {
    const p = decodeImage(png, 'image/png');
    expect([p.width, p.height]).toEqual([40, 40]);
    expect(Buffer.from(p.rgb).equals(Buffer.from(rgb))).toBe(true);
    const j = decodeImage(jpeg, 'image/jpeg');
    expect([j.width, j.height]).toEqual([40, 40]);
    let err = 0;
    for (let i = 0; i < rgb.length; i++) err += Math.abs(j.rgb[i] - rgb[i]);
    expect(err / rgb.length).toBeLessThan(12);
  });

  it('reports a JPEG without its end marker, or cut inside the entropy-coded data, as TRUNCATED', () => {
    expect(codeOf(() => decodeImage(jpeg.subarray(0, jpeg.length - 2), 'image/jpeg'))).toBe(AssetValidationCode.TRUNCATED);
    const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
    const cut = Math.floor((sos + jpeg.length) / 2);
    expect(codeOf(() => decodeImage(jpeg.subarray(0, cut), 'image/jpeg'))).toBe(AssetValidationCode.TRUNCATED);
    // Cut mid-scan but with an EOI glued on: the decoder itself runs out of data.
    const glued = Buffer.concat([jpeg.subarray(0, cut), Buffer.from([0xff, 0xd9])]);
    expect([AssetValidationCode.TRUNCATED, AssetValidationCode.DECODE_FAILED]).toContain(codeOf(() => decodeImage(glued, 'image/jpeg')));
  });

  it('reports a PNG cut short as TRUNCATED and a corrupted chunk as DECODE_FAILED', () => {
    expect(codeOf(() => decodeImage(png.subarray(0, png.length - 12), 'image/png'))).toBe(AssetValidationCode.TRUNCATED); // no IEND
    expect(codeOf(() => decodeImage(png.subarray(0, Math.floor(png.length / 2)), 'image/png'))).toBe(AssetValidationCode.TRUNCATED);
    const corrupt = Buffer.from(png);
    corrupt[45] ^= 0xff; // inside IDAT
    expect(codeOf(() => decodeImage(corrupt, 'image/png'))).toBe(AssetValidationCode.DECODE_FAILED);
  });

  it('rejects empty input and types it cannot decode', () => {
    expect(codeOf(() => decodeImage(Buffer.alloc(0), 'image/png'))).toBe(AssetValidationCode.EMPTY_FILE);
    expect(codeOf(() => decodeImage(png, 'application/dicom'))).toBe(AssetValidationCode.UNSUPPORTED_TYPE);
  });
});

describe(encodePng.name, () => {
  it('writes a truecolour PNG with no ancillary chunks', () => {
    const out = encodePng(rgb, 40, 40);
    const types: string[] = [];
    for (let i = 8; i < out.length;) {
      const len = out.readUInt32BE(i);
      types.push(out.toString('latin1', i + 4, i + 8));
      i += 12 + len;
    }
    expect(new Set(types)).toEqual(new Set(['IHDR', 'IDAT', 'IEND']));
    expect(Buffer.from(decodeImage(out, 'image/png').rgb).equals(Buffer.from(rgb))).toBe(true);
  });
});

describe(resizeForModel.name, () => {
  it('pads a wide image to a square with its mean colour, centred, then resizes', () => {
    // 4x2: left half red, right half blue. Mean = (127.5, 0, 127.5) -> (128, 0, 128).
    const src = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 4; x++) {
        const i = (y * 4 + x) * 3;
        if (x < 2) src[i] = 255;
        else src[i + 2] = 255;
      }
    const out = resizeForModel(src, 4, 2, 4);
    const at = (x: number, y: number) => Array.from(out.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect(at(0, 0)).toEqual([128, 0, 128]); // padding row above
    expect(at(3, 3)).toEqual([128, 0, 128]); // padding row below
    expect(at(0, 1)).toEqual([255, 0, 0]);
    expect(at(3, 2)).toEqual([0, 0, 255]);
  });

  it('downscales by area averaging: a 2x2 block becomes its mean', () => {
    const src = new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 100, 100, 100]);
    expect(Array.from(resizeForModel(src, 2, 2, 1))).toEqual([100, 100, 100]);
  });

  it('upscales bilinearly and keeps a flat image flat', () => {
    const flat = new Uint8Array(3 * 3 * 3).fill(77);
    expect(resizeForModel(flat, 3, 3, 7).every((v) => v === 77)).toBe(true);
    // Half-pixel centres: the middle of a 2-pixel ramp 0..200 upscaled to 4 gives 0, 50, 150, 200.
    const ramp = new Uint8Array([0, 0, 0, 200, 200, 200, 0, 0, 0, 200, 200, 200]);
    const up = resizeForModel(ramp, 2, 2, 4);
    expect([up[0], up[3], up[6], up[9]]).toEqual([0, 50, 150, 200]);
  });

  it('gives the derivative bit-identical to the first separable implementation, across sizes and calls in any order', () => {
    // Square inputs, so the padding step is out of the way; the sizes alternate large and small so
    // that a reused scratch array or cached taps from the previous call would show.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (const side of [512, 225, 1000, 300, 512, 448, 2048, 231]) {
      const src = new Uint8Array(side * side * 3).map(() => random());
      const size = side === 231 ? 7 : 224;
      expect(Buffer.from(resizeForModel(src, side, side, size)).equals(Buffer.from(referenceResizeArea(src, side, size)))).toBe(true);
    }
  });

  it('downscales to what the 2-D area-average definition gives (up to float rounding at .5)', () => {
    // Each output pixel: the coverage-weighted mean of the source pixels under it, computed directly.
    const reference = (src: Uint8Array, side: number, size: number) => {
      const out = new Uint8Array(size * size * 3);
      const scale = side / size;
      for (let oy = 0; oy < size; oy++)
        for (let ox = 0; ox < size; ox++) {
          const acc = [0, 0, 0];
          let total = 0;
          for (let y = Math.floor(oy * scale); y < Math.min(side, Math.ceil((oy + 1) * scale)); y++)
            for (let x = Math.floor(ox * scale); x < Math.min(side, Math.ceil((ox + 1) * scale)); x++) {
              const w = (Math.min((oy + 1) * scale, y + 1) - Math.max(oy * scale, y)) * (Math.min((ox + 1) * scale, x + 1) - Math.max(ox * scale, x));
              for (let c = 0; c < 3; c++) acc[c] += src[(y * side + x) * 3 + c] * w;
              total += w;
            }
          for (let c = 0; c < 3; c++) out[(oy * size + ox) * 3 + c] = Math.round(acc[c] / total);
        }
      return out;
    };
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    for (const [side, size] of [
      [512, 224],
      [300, 224],
      [7, 3],
      [9, 9],
    ]) {
      const src = Uint8Array.from({ length: side * side * 3 }, random);
      const ours = resizeForModel(src, side, side, size);
      const theirs = reference(src, side, size);
      let differing = 0;
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs[i]));
        if (ours[i] !== theirs[i]) differing++;
      }
      expect({ side, size, maxDiff: maxDiff <= 1, rare: differing / ours.length < 0.001 }).toEqual({ side, size, maxDiff: true, rare: true });
    }
  });

  it('gives 224 x 224 by default and keeps the finding where it was', () => {
    const img = renderFinding({ shape: 'square', color: 'green', position: 'lower right', size: 'large', label: 'effusion' }, 64, 3);
    const out = resizeForModel(img, 64, 64);
    expect(out.length).toBe(224 * 224 * 3);
    const i = (Math.round(0.75 * 224) * 224 + Math.round(0.75 * 224)) * 3;
    expect(out[i + 1]).toBeGreaterThan(150);
    expect(out[i]).toBeLessThan(100);
  });
});
