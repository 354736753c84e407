import { createHash } from 'crypto';
import { DYNAMIC_MAP_8BIT, NF4_CODE } from './nf4-codebook';
import { BNB_DOUBLE, BNB_ODD, BNB_SMALL, BNB_TIES, inputValue } from './nf4-bitsandbytes.fixture';
import { torchFloat32Sum } from './torch-float32-sum';
import { dequantizeBlockwise8bit, dequantizeNf4, nf4Absmax, nf4HeldBytes, nf4StorageBytes, quantizeBlockwise8bit, quantizeNf4 } from './nf4.quantizer';

const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
const inputs = (n: number) => Float32Array.from({ length: n }, (_, i) => inputValue(i));

describe('quantizeNf4', () => {
  it('maps a block of codebook values times its absmax to codes 0..15 and dequantizes exactly', () => {
    for (const absmax of [1, 0.5, 3, 0.0625]) {
      // Powers of two keep code·absmax exact in float32, so the round trip must be exact.
      const block = new Float32Array(64);
      for (let i = 0; i < 64; i++) block[i] = NF4_CODE[i % 16] * absmax;
      const q = quantizeNf4(block, [64]);
      expect(q.absmax![0]).toBe(absmax);
      expect(hex(q.packed)).toBe('0123456789abcdef'.repeat(4));
      expect(Array.from(dequantizeNf4(q))).toEqual(Array.from(block));
    }
  });

  it('packs the first element of each pair into the high nibble', () => {
    const v = new Float32Array(64);
    v[0] = 1; // code 15
    v[1] = -1; // code 0
    const q = quantizeNf4(v, [64]);
    expect(q.packed[0]).toBe(0xf0);
  });

  it('sends a value exactly between two codes to the lower code, as bitsandbytes does', () => {
    const v = new Float32Array(64);
    v[0] = 1;
    BNB_TIES.mids.forEach((m, i) => (v[1 + i] = m));
    BNB_TIES.above.forEach((m, i) => (v[16 + i] = m));
    const q = quantizeNf4(v, [64]);
    expect(hex(q.packed)).toBe(BNB_TIES.packed);
    // Spelled out: the midpoint between codes k and k+1 gets k, the next float32 up gets k+1.
    expect(hex(q.packed).slice(0, 16)).toBe('f0123456789abcde');
  });

  it('matches bitsandbytes quantize_4bit / dequantize_4bit (nf4, blocksize 64) on a [2, 70] tensor', () => {
    const q = quantizeNf4(inputs(140), BNB_SMALL.shape);
    expect(hex(q.packed)).toBe(BNB_SMALL.packed);
    expect(Array.from(q.absmax!)).toEqual(BNB_SMALL.absmax);
    expect(Array.from(dequantizeNf4(q))).toEqual(BNB_SMALL.dequant);
  });

  it('matches bitsandbytes on an odd element count (partial block, padded last byte)', () => {
    const q = quantizeNf4(inputs(65), BNB_ODD.shape);
    expect(q.packed.length).toBe(33);
    expect(hex(q.packed)).toBe(BNB_ODD.packed);
    expect(Array.from(q.absmax!)).toEqual(BNB_ODD.absmax);
    expect(Array.from(dequantizeNf4(q))).toEqual(BNB_ODD.dequant);
  });

  it('matches bitsandbytes double quantization (compress_statistics=True) bit for bit', () => {
    const n = BNB_DOUBLE.n;
    const a = inputs(n);
    for (let i = 0; i < n; i++) a[i] = a[i] * Math.fround(((Math.floor(i / 64) % 13) + 1) / 4);
    const q = quantizeNf4(a, [n], { doubleQuant: true });
    const dq = q.doubleQuant!;
    expect(q.absmax).toBeNull();
    expect(createHash('sha256').update(q.packed).digest('hex')).toBe(BNB_DOUBLE.packedSha256);
    expect(dq.offset).toBe(BNB_DOUBLE.offset);
    expect(Array.from(dq.absmax2)).toEqual(BNB_DOUBLE.absmax2);
    expect(hex(dq.qabsmax)).toBe(BNB_DOUBLE.qabsmax);
    const out = dequantizeNf4(q);
    expect(Array.from(out.subarray(0, 8))).toEqual(BNB_DOUBLE.dequantFirst);
    expect(Array.from(out.subarray(n - 8))).toEqual(BNB_DOUBLE.dequantLast);
    expect(createHash('sha256').update(Buffer.from(out.buffer)).digest('hex')).toBe(BNB_DOUBLE.dequantSha256);
    // The recovered absmax is close to the raw one (8-bit second level).
    const raw = quantizeNf4(a, [n]).absmax!;
    expect(Array.from(raw.subarray(0, 5))).toEqual(BNB_DOUBLE.rawAbsmaxFirst);
    const rec = nf4Absmax(q);
    for (let b = 0; b < raw.length; b++) expect(Math.abs(rec[b] - raw[b])).toBeLessThanOrEqual(0.0071 * 7.85);
  });

  it('keeps an all-zero block at zero', () => {
    const q = quantizeNf4(new Float32Array(128), [2, 64]);
    expect(Array.from(dequantizeNf4(q))).toEqual(new Array(128).fill(0));
  });

  it('rejects an unsupported blocksize, a shape mismatch and non-finite values', () => {
    expect(() => quantizeNf4(new Float32Array(64), [64], { blocksize: 48 })).toThrow(/blocksize must be one of 32, 64/);
    expect(() => quantizeNf4(new Float32Array(64), [8, 9])).toThrow(/shape \[8, 9\] holds 72 values, got 64/);
    const bad = new Float32Array(64);
    bad[5] = NaN;
    expect(() => quantizeNf4(bad, [64])).toThrow(/index 5 is NaN/);
  });
});

describe('quantizeBlockwise8bit', () => {
  it('uses the bitsandbytes dynamic map: 256 sorted entries, the create_dynamic_map formula to 2e-7', () => {
    // Independent regeneration in float64 of create_dynamic_map(signed=True, max_exponent_bits=7):
    // for i in 0..6, the means of linspace(0.1, 1, 2^i + 1) times 10^(i-6), both signs, plus 0 and 1.
    const ref: number[] = [0, 1];
    for (let i = 0; i < 7; i++) {
      const k = 2 ** i + 1;
      for (let j = 0; j < k - 1; j++) {
        const m = ((0.1 + (0.9 * j) / (k - 1) + 0.1 + (0.9 * (j + 1)) / (k - 1)) / 2) * 10 ** (i - 6);
        ref.push(m, -m);
      }
    }
    ref.sort((a, b) => a - b);
    expect(DYNAMIC_MAP_8BIT.length).toBe(256);
    for (let i = 0; i < 256; i++) expect(Math.abs(DYNAMIC_MAP_8BIT[i] - ref[i])).toBeLessThanOrEqual(2e-7 * Math.abs(ref[i]));
    // Entries printed by bitsandbytes 0.50.2 create_dynamic_map().tolist().
    expect(DYNAMIC_MAP_8BIT[0]).toBe(-0.992968738079071);
    expect(DYNAMIC_MAP_8BIT[127]).toBe(0);
    expect(DYNAMIC_MAP_8BIT[128]).toBe(5.500000384017767e-7);
    expect(DYNAMIC_MAP_8BIT[255]).toBe(1);
  });

  it('round-trips values to the nearest map entry times the block absmax', () => {
    const v = Float32Array.from([0.5, -0.25, 1e-4, 0.125, -2]);
    const { codes, absmax } = quantizeBlockwise8bit(v, 4);
    expect(Array.from(absmax)).toEqual([0.5, 2]);
    const back = dequantizeBlockwise8bit(codes, absmax, 4);
    expect(back[0]).toBe(0.5); // 1.0 is in the map
    expect(back[4]).toBe(Math.fround(DYNAMIC_MAP_8BIT[0] * 2)); // -1 -> nearest entry -0.99297
    for (let i = 0; i < v.length; i++) expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(0.0071 * absmax[Math.floor(i / 4)]);
  });
});

describe('nf4StorageBytes', () => {
  it('is 0.5 byte per weight + 1 byte per 64 + 4 bytes per 64·256 + 4 with double quantization', () => {
    // 4096 x 4096: 8,388,608 nibble bytes + 262,144 qabsmax + 1,024·4 absmax2 + 4 offset.
    const n = 4096 * 4096;
    expect(nf4StorageBytes(n, { doubleQuant: true })).toBe(8388608 + 262144 + 4096 + 4);
    expect(nf4StorageBytes(n, { doubleQuant: true }) / (4 * n)).toBeCloseTo(0.128967, 6);
    // Without double quantization: 0.5 + 4/64 bytes per weight = 0.140625 of float32.
    expect(nf4StorageBytes(n) / (4 * n)).toBe(0.140625);
  });

  it('agrees with the bytes a quantized tensor actually holds', () => {
    for (const n of [64, 65, 1000, 64 * 300 + 7]) {
      for (const doubleQuant of [false, true]) {
        const q = quantizeNf4(inputs(n), [n], { doubleQuant });
        expect(nf4HeldBytes(q)).toBe(nf4StorageBytes(n, { doubleQuant }));
      }
    }
  });
});

describe('the double-quantization offset (torch float32 mean)', () => {
  // bitsandbytes 0.50.2 under torch 2.15.0 (CPU, AVX2, one thread), printed by
  // fixtures/nf4-offset-reference.py: the offset it stores, the float32 torch.sum of the raw
  // absmax values, and the float64 mean rounded to float32 (what this library used to take,
  // one float32 step off with 7, 333, 1,500 and 20,000 blocks).
  const BNB_OFFSETS = [
    { blocks: 3, offset: 352.8703918457031, float64MeanAsFloat32: 352.8703918457031, absmaxSum: 1058.6112060546875 },
    { blocks: 7, offset: 369.5537109375, float64MeanAsFloat32: 369.5537414550781, absmaxSum: 2586.8759765625 },
    { blocks: 40, offset: 389.0069885253906, float64MeanAsFloat32: 389.0069885253906, absmaxSum: 15560.279296875 },
    { blocks: 333, offset: 397.8826904296875, float64MeanAsFloat32: 397.8827209472656, absmaxSum: 132494.9375 },
    { blocks: 1500, offset: 398.0756530761719, float64MeanAsFloat32: 398.07568359375, absmaxSum: 597113.5 },
    { blocks: 20000, offset: 397.7230224609375, float64MeanAsFloat32: 397.7230529785156, absmaxSum: 7954460.5 },
  ];
  const scaledInputs = (blocks: number): Float32Array =>
    Float32Array.from({ length: blocks * 64 }, (_, i) => Math.fround(inputValue(i) * Math.fround((((Math.floor(i / 64) * 7717) % 9973) + 1) / 64)));

  it.each(BNB_OFFSETS)('equals bitsandbytes with $blocks blocks', ({ blocks, offset, absmaxSum }) => {
    const a = scaledInputs(blocks);
    const raw = quantizeNf4(a, [a.length]).absmax!;
    expect(torchFloat32Sum(raw)).toBe(absmaxSum);
    expect(quantizeNf4(a, [a.length], { doubleQuant: true }).doubleQuant!.offset).toBe(offset);
  });
});
