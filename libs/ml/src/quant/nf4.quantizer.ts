import { DYNAMIC_MAP_8BIT, NF4_BOUNDS, NF4_CODE } from './nf4-codebook';
import { QuantErrorCode, QuantException } from './quant.exception';
import { torchFloat32Sum } from './torch-float32-sum';

/**
 * Blockwise 4-bit NormalFloat quantization, bit for bit as bitsandbytes does it on the CPU
 * (bitsandbytes 0.50.2: `functional.quantize_4bit(..., quant_type='nf4')`, whose kernel is
 * `bitsandbytes::quantize_4bit` in backends/default/ops.py; double quantization from
 * `functional.quantize_4bit(compress_statistics=True)` with the 8-bit blockwise kernel of
 * csrc/cpu_ops.cpp + csrc/common.cpp `quantize_block`). The unit test compares against
 * outputs of that code.
 */

/** Block sizes bitsandbytes accepts for 4-bit quantization. */
export const NF4_BLOCKSIZES = [32, 64, 128, 256, 512, 1024, 2048, 4096] as const;
/** bitsandbytes quantizes the absmax values in blocks of 256 (functional.quantize_4bit). */
export const DOUBLE_QUANT_BLOCKSIZE = 256;
/** bitsandbytes clamps the scale before taking its reciprocal so an all-zero block stays finite. */
const MIN_ABSMAX = Math.fround(1e-38);

export interface Nf4Options {
  /** Default 64, as bitsandbytes and QLoRA. */
  blocksize?: number;
  /** Quantize the per-block absmax values again (QLoRA "double quantization"). Default false. */
  doubleQuant?: boolean;
}

/** Second level of double quantization: absmax - offset as 8-bit codes, one float32 scale per 256. */
export interface Nf4DoubleQuantState {
  qabsmax: Uint8Array;
  absmax2: Float32Array;
  offset: number;
  blocksize2: number;
}

export interface Nf4Quantized {
  shape: number[];
  blocksize: number;
  /** Two codes per byte, the first element in the high nibble; odd counts pad a 0.0 code. */
  packed: Uint8Array;
  /** Per-block absmax (float32) when not double-quantized. */
  absmax: Float32Array | null;
  doubleQuant: Nf4DoubleQuantState | null;
}

function checkBlocksize(blocksize: number): void {
  if (!(NF4_BLOCKSIZES as readonly number[]).includes(blocksize)) {
    throw new QuantException(QuantErrorCode.InvalidOptions, `NF4: blocksize must be one of ${NF4_BLOCKSIZES.join(', ')}, got ${blocksize}`, ['blocksize']);
  }
}

function checkFinite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new QuantException(QuantErrorCode.InvalidInput, `${what}: value at index ${i} is ${values[i]}; only finite values can be quantized`, ['values']);
    }
  }
}

/** Index of the NF4 level for a normalised value: the number of thresholds strictly below it. */
function nf4Index(x: number): number {
  // Binary search over the 15 thresholds; equal to a threshold -> lower level (torch.bucketize).
  let lo = 0;
  let hi = NF4_BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (NF4_BOUNDS[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function quantizeNf4(values: Float32Array, shape: number[], options: Nf4Options = {}): Nf4Quantized {
  const blocksize = options.blocksize ?? 64;
  checkBlocksize(blocksize);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== values.length)
    throw new QuantException(QuantErrorCode.InvalidInput, `NF4: shape [${shape.join(', ')}] holds ${n} values, got ${values.length}`, ['shape']);
  if (n === 0) throw new QuantException(QuantErrorCode.InvalidInput, 'NF4: cannot quantize an empty tensor', ['values']);
  checkFinite(values, 'NF4');
  const f = Math.fround;
  const blocks = Math.ceil(n / blocksize);
  const full = Math.floor(n / blocksize);
  const absmax = new Float32Array(blocks);
  const packed = new Uint8Array(Math.ceil(n / 2)); // zero-filled: an odd tail pads with code 0 below
  const codes = new Uint8Array(packed.length * 2);
  codes.fill(nf4Index(0)); // bitsandbytes pads the scaled values with 0.0 before packing
  for (let b = 0; b < blocks; b++) {
    const start = b * blocksize;
    const end = Math.min(n, start + blocksize);
    let m = 0;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(values[i]));
    if (b < full) {
      // Full blocks: multiply by the float32 reciprocal of the clamped absmax (as bitsandbytes),
      // and store the unclamped absmax.
      absmax[b] = m;
      const inv = f(1 / Math.max(m, MIN_ABSMAX));
      for (let i = start; i < end; i++) codes[i] = nf4Index(Math.min(1, Math.max(-1, f(values[i] * inv))));
    } else {
      // The partial last block divides by the clamped absmax and stores the clamped value.
      const am = Math.max(m, MIN_ABSMAX);
      absmax[b] = am;
      for (let i = start; i < end; i++) codes[i] = nf4Index(Math.min(1, Math.max(-1, f(values[i] / am))));
    }
  }
  for (let j = 0; j < packed.length; j++) packed[j] = (codes[2 * j] << 4) | codes[2 * j + 1];
  if (!options.doubleQuant) return { shape: [...shape], blocksize, packed, absmax, doubleQuant: null };
  return { shape: [...shape], blocksize, packed, absmax: null, doubleQuant: doubleQuantize(absmax) };
}

/**
 * bitsandbytes: offset = absmax.mean(); quantize_blockwise(absmax - offset, blocksize=256). The
 * mean is torch's float32 one: its float32 sum, then a float32 division.
 */
function doubleQuantize(absmax: Float32Array): Nf4DoubleQuantState {
  const offset = Math.fround(torchFloat32Sum(absmax) / absmax.length);
  const centred = new Float32Array(absmax.length);
  for (let i = 0; i < absmax.length; i++) centred[i] = absmax[i] - offset;
  const { codes, absmax: absmax2 } = quantizeBlockwise8bit(centred, DOUBLE_QUANT_BLOCKSIZE);
  return { qabsmax: codes, absmax2, offset, blocksize2: DOUBLE_QUANT_BLOCKSIZE };
}

/**
 * 8-bit blockwise quantization against a sorted 256-entry code (csrc/common.cpp
 * `quantize_block`): divide by the block absmax, binary-search the code entry at or below the
 * value, move to the right neighbour only if it is strictly closer (ties stay left).
 */
export function quantizeBlockwise8bit(
  values: Float32Array,
  blocksize: number,
  code: Float32Array = DYNAMIC_MAP_8BIT,
): { codes: Uint8Array; absmax: Float32Array } {
  if (code.length !== 256)
    throw new QuantException(QuantErrorCode.InvalidOptions, `8-bit blockwise quantization needs a 256-entry code, got ${code.length}`, ['code']);
  if (!Number.isInteger(blocksize) || blocksize <= 0) {
    const message = `8-bit blockwise quantization: blocksize must be a positive integer, got ${blocksize}`;
    throw new QuantException(QuantErrorCode.InvalidOptions, message, ['blocksize']);
  }
  checkFinite(values, '8-bit blockwise quantization');
  const f = Math.fround;
  const n = values.length;
  const blocks = Math.ceil(n / blocksize);
  const absmax = new Float32Array(blocks);
  const codes = new Uint8Array(n);
  for (let b = 0; b < blocks; b++) {
    const start = b * blocksize;
    const end = Math.min(n, start + blocksize);
    let m = 0;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(values[i]));
    absmax[b] = m;
    for (let i = start; i < end; i++) {
      // 0/0 in the C++ code is NaN; an all-zero block has nothing to scale, so it maps to 0.
      const x = m === 0 ? 0 : f(values[i] / m);
      let lo = 0;
      let hi = 255;
      if (x <= code[0]) hi = 0;
      else if (x >= code[255]) lo = 255;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (code[mid] <= x) lo = mid;
        else hi = mid - 1;
      }
      let idx = lo;
      if (idx < 255) {
        const left = Math.abs(f(x - code[idx]));
        const right = Math.abs(f(x - code[idx + 1]));
        if (right < left) idx += 1;
      }
      codes[i] = idx;
    }
  }
  return { codes, absmax };
}

export function dequantizeBlockwise8bit(codes: Uint8Array, absmax: Float32Array, blocksize: number, code: Float32Array = DYNAMIC_MAP_8BIT): Float32Array {
  const expected = Math.ceil(codes.length / blocksize);
  if (absmax.length !== expected) {
    throw new QuantException(
      QuantErrorCode.InvalidInput,
      `8-bit blockwise dequantization: ${codes.length} codes in blocks of ${blocksize} need ${expected} absmax values, got ${absmax.length}`,
      ['absmax'],
    );
  }
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = code[codes[i]] * absmax[Math.floor(i / blocksize)];
  return out;
}

/** The per-block absmax as float32, undoing the second level when double-quantized. */
export function nf4Absmax(q: Nf4Quantized): Float32Array {
  if (q.absmax) return q.absmax;
  const dq = q.doubleQuant;
  if (!dq)
    throw new QuantException(QuantErrorCode.InvalidInput, 'NF4: quantized tensor has neither absmax nor double-quantization state', ['absmax', 'doubleQuant']);
  const out = dequantizeBlockwise8bit(dq.qabsmax, dq.absmax2, dq.blocksize2);
  for (let i = 0; i < out.length; i++) out[i] = out[i] + dq.offset; // float32 add, as `absmax += offset`
  return out;
}

export function dequantizeNf4(q: Nf4Quantized, out?: Float32Array): Float32Array {
  const n = q.shape.reduce((a, b) => a * b, 1);
  const absmax = nf4Absmax(q);
  const result = out ?? new Float32Array(n);
  if (result.length !== n) throw new QuantException(QuantErrorCode.InvalidInput, `NF4: output buffer holds ${result.length} values, expected ${n}`, ['out']);
  const bs = q.blocksize;
  for (let b = 0; b < absmax.length; b++) {
    const scale = absmax[b];
    const end = Math.min(n, (b + 1) * bs);
    for (let i = b * bs; i < end; i++) {
      const byte = q.packed[i >> 1];
      result[i] = NF4_CODE[i & 1 ? byte & 0x0f : byte >> 4] * scale;
    }
  }
  return result;
}

/**
 * Bytes a quantized tensor occupies: packed nibbles + absmax (float32 per block), or with
 * double quantization one byte per block + a float32 scale per 256 blocks + the float32 offset.
 * The code books are shared constants and not counted.
 */
export function nf4StorageBytes(count: number, options: Nf4Options = {}): number {
  const blocksize = options.blocksize ?? 64;
  checkBlocksize(blocksize);
  const blocks = Math.ceil(count / blocksize);
  const scales = options.doubleQuant ? blocks + 4 * Math.ceil(blocks / DOUBLE_QUANT_BLOCKSIZE) + 4 : 4 * blocks;
  return Math.ceil(count / 2) + scales;
}

/** The bytes actually held by a quantized tensor (must agree with nf4StorageBytes). */
export function nf4HeldBytes(q: Nf4Quantized): number {
  const dq = q.doubleQuant;
  return q.packed.byteLength + (q.absmax ? q.absmax.byteLength : 0) + (dq ? dq.qabsmax.byteLength + dq.absmax2.byteLength + 4 : 0);
}
