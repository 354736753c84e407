import { crc32 } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AssetValidationCode, AssetValidationError } from './processing.exception';

export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 3, row-major RGB; alpha is composited onto black. */
  rgb: Uint8Array;
}

// Decoder limits on top of probeImage's pixel limit, in case a caller skips the probe.
const JPEG_MAX_MEGAPIXELS = 100;
const JPEG_MAX_MEMORY_MB = 1024;

/**
 * Decodes PNG or JPEG to RGB. Truncation is detected on purpose before decoding, because the
 * decoders report it poorly: pngjs's sync reader fails with an internal message ("read
 * requests waiting on finished stream"), and jpeg-js throws "marker was not found" for data
 * cut anywhere after the headers, or with tolerant decoding may return an image padded
 * with grey. So: a PNG must consist of whole chunks with valid CRCs ending in IEND, and a
 * JPEG must end with EOI (FFD9), or the file is TRUNCATED.
 */
export function decodeImage(bytes: Uint8Array, mimeType: string): DecodedImage {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length === 0) throw new AssetValidationError(AssetValidationCode.EMPTY_FILE, 'the file is empty');
  switch (mimeType) {
    case 'image/png':
      return decodePng(b);
    case 'image/jpeg':
      return decodeJpeg(b);
    default:
      throw new AssetValidationError(AssetValidationCode.UNSUPPORTED_TYPE, 'cannot decode that type: only image/png and image/jpeg');
  }
}

function decodePng(b: Buffer): DecodedImage {
  checkPngChunks(b);
  let png: PNG;
  try {
    png = PNG.sync.read(b);
  } catch (err) {
    throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the PNG could not be decoded (${decoderReason(err)})`);
  }
  return { width: png.width, height: png.height, rgb: rgbaToRgb(png.data, png.width, png.height) };
}

/** Walks the chunk structure: every chunk whole and with a matching CRC, IEND last. */
export function checkPngChunks(b: Buffer): void {
  if (b.length < 8 || b.readUInt32BE(0) !== 0x89504e47) throw new AssetValidationError(AssetValidationCode.WRONG_MAGIC, 'the bytes are not a PNG');
  let i = 8;
  let index = 0;
  while (i < b.length) {
    if (i + 12 > b.length) throw new AssetValidationError(AssetValidationCode.TRUNCATED, `the PNG ends inside chunk ${index}'s header`);
    const length = b.readUInt32BE(i);
    const type = b.toString('latin1', i + 4, i + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the PNG has an invalid chunk type at chunk ${index}`);
    const end = i + 12 + length;
    if (end > b.length)
      throw new AssetValidationError(AssetValidationCode.TRUNCATED, `the PNG ends inside its ${type} chunk (${end - b.length} bytes missing)`);
    const crc = crc32(b.subarray(i + 4, i + 8 + length)) >>> 0;
    if (crc !== b.readUInt32BE(i + 8 + length))
      throw new AssetValidationError(AssetValidationCode.DECODE_FAILED, `the PNG's ${type} chunk fails its CRC check (corrupt data)`);
    if (type === 'IEND') return;
    i = end;
    index++;
  }
  throw new AssetValidationError(AssetValidationCode.TRUNCATED, 'the PNG has no IEND chunk (the file was cut short)');
}

/** A JPEG must end with EOI (FFD9); some writers pad after it, so trailing zeros are skipped. */
export function checkJpegEnd(b: Uint8Array): void {
  let end = b.length;
  while (end > 2 && b[end - 1] === 0) end--;
  if (end < 4 || b[end - 2] !== 0xff || b[end - 1] !== 0xd9) {
    throw new AssetValidationError(AssetValidationCode.TRUNCATED, 'the JPEG has no end-of-image marker (the file was cut short)');
  }
}

function decodeJpeg(b: Buffer): DecodedImage {
  checkJpegEnd(b);
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(b, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: JPEG_MAX_MEGAPIXELS,
      maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
    });
  } catch (err) {
    const reason = decoderReason(err);
    // jpeg-js's own words for running out of data inside the scan.
    const code = /marker was not found|unexpected end|out of range/i.test(reason) ? AssetValidationCode.TRUNCATED : AssetValidationCode.DECODE_FAILED;
    throw new AssetValidationError(code, `the JPEG could not be decoded (${reason})`);
  }
  return { width: img.width, height: img.height, rgb: rgbaToRgb(img.data, img.width, img.height) };
}

/** The decoder's message, bounded; decoder messages describe structure, not pixel content. */
function decoderReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 120);
}

/** RGBA to RGB with alpha composited onto black (the same rounding on every codec path). */
export function rgbaToRgb(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, i = 0, j = 0; p < width * height; p++, i += 4, j += 3) {
    const a = rgba[i + 3];
    if (a === 255) {
      rgb[j] = rgba[i];
      rgb[j + 1] = rgba[i + 1];
      rgb[j + 2] = rgba[i + 2];
    } else {
      rgb[j] = Math.round((rgba[i] * a) / 255);
      rgb[j + 1] = Math.round((rgba[i + 1] * a) / 255);
      rgb[j + 2] = Math.round((rgba[i + 2] * a) / 255);
    }
  }
  return rgb;
}

/** Truecolour PNG, no ancillary chunks: nothing of the source file's metadata survives. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new RangeError(`rgb must hold ${width * height * 3} bytes for ${width}x${height}, got ${rgb.length}`);
  return PNG.sync.write({ width, height, data: Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength) } as PNG, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
  });
}

/**
 * The model's preprocessing, as LLaVA-1.5 does it with image_aspect_ratio='pad'
 * (llava/mm_utils.py expand2square, then the CLIP image processor): pad the image to a square
 * with the mean colour (LLaVA pads with the processor's image_mean; we use the image's own
 * mean, which keeps the padding neutral for domain images whose statistics are not CLIP's),
 * centred, then resize to size x size. Downscaling uses area averaging (each output pixel is
 * the coverage-weighted mean of the source pixels under it, like PIL's box/"area" filter, so
 * no aliasing); upscaling uses bilinear interpolation with half-pixel centres.
 */
export function resizeForModel(rgb: Uint8Array, width: number, height: number, size = 224): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`rgb must hold ${width * height * 3} bytes for ${width}x${height}, got ${rgb.length}`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  const { square, side } = padToSquare(rgb, width, height);
  return side >= size ? resizeArea(square, side, size) : resizeBilinear(square, side, size);
}

function padToSquare(rgb: Uint8Array, width: number, height: number): { square: Uint8Array; side: number } {
  if (width === height) return { square: rgb, side: width };
  const side = Math.max(width, height);
  const sums = [0, 0, 0];
  for (let i = 0; i < rgb.length; i += 3) {
    sums[0] += rgb[i];
    sums[1] += rgb[i + 1];
    sums[2] += rgb[i + 2];
  }
  const n = width * height;
  const mean = sums.map((s) => Math.round(s / n));
  const square = new Uint8Array(side * side * 3);
  for (let p = 0; p < side * side; p++) square.set(mean, p * 3);
  const x0 = Math.floor((side - width) / 2);
  const y0 = Math.floor((side - height) / 2);
  for (let y = 0; y < height; y++) {
    square.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((y + y0) * side + x0) * 3);
  }
  return { square, side };
}

/**
 * Area averaging, separably: the weight of source pixel (x, y) in output pixel (ox, oy) is the
 * overlap wx(ox, x) * wy(oy, y), so rows are averaged first, then columns (the same sums as the
 * 2-D definition, a few times fewer operations). It is the derivative's hot loop (bench:ingestion
 * profiles it as the workers' largest cost), so: the taps are kept per (side, size), the row sums
 * reuse one scratch array (the function is synchronous, one call per thread at a time), and the
 * loops read locals. The arithmetic is the same operations in the same order as the plain
 * definition, so the pixels are bit-identical (image-processing.unit.spec checks it against it).
 */
function resizeArea(src: Uint8Array, side: number, size: number): Uint8Array {
  const taps = cachedAreaTaps(side, size);
  const start = taps.start;
  const index = taps.index;
  const weight = taps.weight;
  const total = taps.total;
  // Horizontal pass: side rows x size columns, unnormalized sums.
  const rows = rowScratch(side * size * 3);
  const rowStride = side * 3;
  for (let y = 0, srcRow = 0, o = 0; y < side; y++, srcRow += rowStride) {
    for (let ox = 0; ox < size; ox++, o += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      const end = start[ox + 1];
      for (let t = start[ox]; t < end; t++) {
        const w = weight[t];
        const i = srcRow + index[t] * 3;
        r += src[i] * w;
        g += src[i + 1] * w;
        b += src[i + 2] * w;
      }
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  // Vertical pass, normalized by the total weight of the output pixel's footprint.
  const out = new Uint8Array(size * size * 3);
  const colStride = size * 3;
  for (let oy = 0, o = 0; oy < size; oy++) {
    const t0 = start[oy];
    const t1 = start[oy + 1];
    const totalY = total[oy];
    for (let ox = 0, x3 = 0; ox < size; ox++, x3 += 3, o += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = t0; t < t1; t++) {
        const w = weight[t];
        const i = index[t] * colStride + x3;
        r += rows[i] * w;
        g += rows[i + 1] * w;
        b += rows[i + 2] * w;
      }
      const norm = totalY * total[ox];
      out[o] = Math.round(r / norm);
      out[o + 1] = Math.round(g / norm);
      out[o + 2] = Math.round(b / norm);
    }
  }
  return out;
}

/** Kept between calls up to 8 MB (a 1,560-pixel square at the 224-pixel default); a larger image's lasts its call. */
const SCRATCH_KEPT = 1 << 20;
let scratch = new Float64Array(0);
function rowScratch(length: number): Float64Array {
  if (scratch.length >= length) return scratch;
  if (length > SCRATCH_KEPT) return new Float64Array(length);
  scratch = new Float64Array(length);
  return scratch;
}

const tapCache = new Map<string, ReturnType<typeof areaTaps>>();
function cachedAreaTaps(side: number, size: number): ReturnType<typeof areaTaps> {
  const key = `${side}/${size}`;
  let taps = tapCache.get(key);
  if (!taps) {
    // Bounded: uploads come in many sizes; the common ones stay.
    if (tapCache.size >= 64) tapCache.clear();
    taps = areaTaps(side, size);
    tapCache.set(key, taps);
  }
  return taps;
}

/** For each output index, the source indices it covers and by how much (1-D). */
function areaTaps(side: number, size: number): { start: Int32Array; index: Int32Array; weight: Float64Array; total: Float64Array } {
  const scale = side / size;
  const start = new Int32Array(size + 1);
  const index: number[] = [];
  const weight: number[] = [];
  const total = new Float64Array(size);
  for (let o = 0; o < size; o++) {
    start[o] = index.length;
    const s0 = o * scale;
    const s1 = s0 + scale;
    for (let s = Math.floor(s0); s < Math.min(side, Math.ceil(s1)); s++) {
      const w = Math.min(s1, s + 1) - Math.max(s0, s);
      index.push(s);
      weight.push(w);
      total[o] += w;
    }
  }
  start[size] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight), total };
}

function resizeBilinear(src: Uint8Array, side: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const scale = side / size;
  for (let oy = 0; oy < size; oy++) {
    const sy = Math.min(side - 1, Math.max(0, (oy + 0.5) * scale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(side - 1, y0 + 1);
    const fy = sy - y0;
    for (let ox = 0; ox < size; ox++) {
      const sx = Math.min(side - 1, Math.max(0, (ox + 0.5) * scale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(side - 1, x0 + 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const a = src[(y0 * side + x0) * 3 + c] * (1 - fx) + src[(y0 * side + x1) * 3 + c] * fx;
        const d = src[(y1 * side + x0) * 3 + c] * (1 - fx) + src[(y1 * side + x1) * 3 + c] * fx;
        out[(oy * size + ox) * 3 + c] = Math.round(a * (1 - fy) + d * fy);
      }
    }
  }
  return out;
}
