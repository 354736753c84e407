import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from './half';
import { openSafetensors, parseSafetensors, serializeSafetensors, TensorRecord, writeSafetensors, writeShardedSafetensors } from './safetensors';
import { SafetensorsErrorCode, SafetensorsException } from './safetensors.exception';

// PYTHON_FILE is the file the Python `safetensors` library (0.8.0, numpy 2.4.6, ml_dtypes 0.6.0
// for bfloat16) writes for the tensors of fixtures/make-python-reference.py:
//   safetensors.numpy.save({...}, metadata={"format": "pt", "source": "trellis test"})
// The F16/BF16 values and bit patterns below are what numpy's astype(float16) and
// ml_dtypes' astype(bfloat16) (both round to nearest, ties to even) give for VALUES.
//
// The other direction was checked by hand (fixtures/check-our-writer.py): serializeSafetensors
// of the decoded PYTHON_FILE tensors, of VALUES encoded to F16/BF16 from float32, and a
// writeShardedSafetensors checkpoint of them (6 shards + index),
// written to /tmp and read back with safetensors.numpy.load_file, gave every tensor equal
// (same dtype, shape and bytes) to the arrays the script builds, and our file was byte for byte
// Python's (the test "writes the same bytes as Python" below keeps that).
const PYTHON_FILE = Buffer.from(
  'UAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJzb3VyY2UiOiJ0cmVsbGlzIHRlc3QiLCJmb3JtYXQiOiJwdCJ9LCJpNjQiOnsiZHR5cGUiOiJJNjQiLCJzaGFwZSI6WzRdLCJkYXRhX29mZnNldHMiOlswLDMyXX0sImVtcHR5Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlswLDNdLCJkYXRhX29mZnNldHMiOlszMiwzMl19LCJmMzIiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzMsNl0sImRhdGFfb2Zmc2V0cyI6WzMyLDEwNF19LCJzY2FsYXIiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6W10sImRhdGFfb2Zmc2V0cyI6WzEwNCwxMDhdfSwiaTMyIjp7ImR0eXBlIjoiSTMyIiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOlsxMDgsMTMyXX0sImJmMTYiOnsiZHR5cGUiOiJCRjE2Iiwic2hhcGUiOlsxOF0sImRhdGFfb2Zmc2V0cyI6WzEzMiwxNjhdfSwiZjE2Ijp7ImR0eXBlIjoiRjE2Iiwic2hhcGUiOlsyLDldLCJkYXRhX29mZnNldHMiOlsxNjgsMjA0XX0sImk4Ijp7ImR0eXBlIjoiSTgiLCJzaGFwZSI6WzVdLCJkYXRhX29mZnNldHMiOlsyMDQsMjA5XX0sInU4Ijp7ImR0eXBlIjoiVTgiLCJzaGFwZSI6WzVdLCJkYXRhX29mZnNldHMiOlsyMDksMjE0XX19////////3////////////wAAAAAAAAAAAQAAAAAAIAAAAIA/AAAgwM3MzD2rqqo+AOB/RwDwf0dZ2YAzwhYBAAAAAIDmsWF/AICAPwCggD8AEIA/ADCAPwAAADMAAMAzAICBPwDvf0cAAPBAAAAAgP////8AAAAAAQAAAAIAAAD///9/gD8gwM09qz6AR4BHgTMBAACAYn+AP4E/gD+APwAzwDOCP4BHADwAwWYuVTX/ewB8AQAAAACAAHwEPAU8ADwCPAAAAgAMPP97gP8AAX8AAX+A/w==',
  'base64',
);
// ties: 1+2^-11 and 1+3*2^-11 (f16), 1+2^-8 and 1+3*2^-8 (bf16), 2^-25 and 3*2^-25 (f16 subnormal)
const VALUES = [
  1.0,
  -2.5,
  0.1,
  1 / 3,
  65504.0,
  65520.0,
  6e-8,
  1e-40,
  -0.0,
  3.0e38,
  1.00390625,
  1.0048828125,
  1.00048828125,
  1.00146484375,
  2 ** -25,
  3 * 2 ** -25,
  1.01171875,
  65519.0,
];
const F16_BITS = [15360, 49408, 11878, 13653, 31743, 31744, 1, 0, 32768, 31744, 15364, 15365, 15360, 15362, 0, 2, 15372, 31743];
const BF16_BITS = [16256, 49184, 15821, 16043, 18304, 18304, 13185, 1, 32768, 32610, 16256, 16257, 16256, 16256, 13056, 13248, 16258, 18304];
const F16_AS_F32 = [
  1.0,
  -2.5,
  0.0999755859375,
  0.333251953125,
  65504.0,
  Infinity,
  5.960464477539063e-8,
  0.0,
  -0.0,
  Infinity,
  1.00390625,
  1.0048828125,
  1.0,
  1.001953125,
  0.0,
  1.1920928955078125e-7,
  1.01171875,
  65504.0,
];
const BF16_AS_F32 = [
  1.0, -2.5, 0.10009765625, 0.333984375, 65536.0, 65536.0, 6.007030606269836e-8, 9.183549615799121e-41, -0.0, 3.00405527047391e38, 1.0, 1.0078125, 1.0, 1.0,
  2.9802322387695312e-8, 8.940696716308594e-8, 1.015625, 65536.0,
];

function expectCode(err: unknown, code: SafetensorsErrorCode, message: RegExp): void {
  expect(err).toBeInstanceOf(SafetensorsException);
  expect((err as SafetensorsException).code).toBe(code);
  expect((err as Error).message).toMatch(message);
}

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

/** A file with a hand-written header and `dataBytes` zero bytes of data. */
function withHeader(header: unknown, dataBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataBytes)]);
}

describe('half precision', () => {
  it('encodes float32 to F16 and BF16 bits as numpy and ml_dtypes do (ties to even, overflow, subnormals)', () => {
    expect(VALUES.map(float32ToFloat16Bits)).toEqual(F16_BITS);
    expect(VALUES.map(float32ToBfloat16Bits)).toEqual(BF16_BITS);
  });

  it('decodes F16 and BF16 bits to the float32 values numpy gives', () => {
    expect(F16_BITS.map(float16BitsToFloat32)).toEqual(F16_AS_F32);
    expect(BF16_BITS.map(bfloat16BitsToFloat32)).toEqual(BF16_AS_F32);
  });

  it('keeps NaN a NaN and infinities infinite', () => {
    expect(float16BitsToFloat32(float32ToFloat16Bits(NaN))).toBeNaN();
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(NaN))).toBeNaN();
    expect(float16BitsToFloat32(float32ToFloat16Bits(-Infinity))).toBe(-Infinity);
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(Infinity))).toBe(Infinity);
  });

  it('round-trips every F16 bit pattern exactly (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = float16BitsToFloat32(h);
      if (Number.isNaN(x)) expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(x)))).toBe(true);
      else if (float32ToFloat16Bits(x) !== h) throw new Error(`F16 0x${h.toString(16)} -> ${x} -> 0x${float32ToFloat16Bits(x).toString(16)}`);
    }
  });
});

describe('parseSafetensors', () => {
  it('reads every dtype of the file Python wrote', () => {
    const { tensors, metadata } = parseSafetensors(PYTHON_FILE);
    expect(metadata).toEqual({ format: 'pt', source: 'trellis test' });
    expect(Object.keys(tensors).sort()).toEqual(['bf16', 'empty', 'f16', 'f32', 'i32', 'i64', 'i8', 'scalar', 'u8']);
    expect(tensors.f32).toEqual({ dtype: 'F32', shape: [3, 6], data: new Float32Array(VALUES) });
    expect(tensors.f16.shape).toEqual([2, 9]);
    expect(Array.from(tensors.f16.data as Float32Array)).toEqual(F16_AS_F32);
    expect(Array.from(tensors.bf16.data as Float32Array)).toEqual(BF16_AS_F32);
    expect(tensors.i32).toEqual({ dtype: 'I32', shape: [2, 3], data: new Int32Array([-2147483648, -1, 0, 1, 2, 2147483647]) });
    expect(tensors.i64).toEqual({ dtype: 'I64', shape: [4], data: new BigInt64Array([-9007199254740993n, -1n, 0n, 9007199254740993n]) });
    expect(tensors.u8).toEqual({ dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) });
    expect(tensors.i8).toEqual({ dtype: 'I8', shape: [5], data: new Int8Array([-128, -1, 0, 1, 127]) });
    expect(tensors.empty).toEqual({ dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
    expect(tensors.scalar).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([7.5]) });
  });

  describe('rejects a bad header with the reason', () => {
    const f32 = (offsets: number[], shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const cases: [string, Buffer, SafetensorsErrorCode, RegExp][] = [
      ['too short', Buffer.alloc(5), SafetensorsErrorCode.InvalidHeader, /fewer than the 8-byte/],
      [
        'length past the end',
        Buffer.concat([Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]),
        SafetensorsErrorCode.InvalidHeader,
        /runs past the end/,
      ],
      ['absurd length', Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0]), SafetensorsErrorCode.InvalidHeader, /over the 100000000-byte limit/],
      ['not JSON', Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x}')]), SafetensorsErrorCode.InvalidHeader, /not UTF-8 JSON/],
      [
        'unknown dtype',
        withHeader({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8),
        SafetensorsErrorCode.UnknownDtype,
        /tensor a: dtype "F64" is not supported; valid: F32, F16, BF16, I32, I64, U8, I8/,
      ],
      ['bad shape', withHeader({ a: f32([0, 8], [-2]) }, 8), SafetensorsErrorCode.InvalidHeader, /shape \[-2\]/],
      ['end before begin', withHeader({ a: f32([8, 0]) }, 8), SafetensorsErrorCode.InvalidOffsets, /0 <= begin <= end/],
      [
        'out of range',
        withHeader({ a: f32([0, 8]), b: f32([8, 16]) }, 12),
        SafetensorsErrorCode.InvalidOffsets,
        /tensor b: data_offsets \[8, 16\] run past the 12-byte data section/,
      ],
      ['overlap', withHeader({ a: f32([0, 8]), b: f32([4, 12]) }, 12), SafetensorsErrorCode.InvalidOffsets, /tensor b \[4, 12\] overlaps a/],
      ['gap', withHeader({ a: f32([0, 8]), b: f32([12, 20]) }, 20), SafetensorsErrorCode.InvalidOffsets, /leaving a gap after byte 8/],
      ['trailing bytes', withHeader({ a: f32([0, 8]) }, 12), SafetensorsErrorCode.InvalidOffsets, /cover 8 bytes but the data section has 12/],
      [
        'size mismatch',
        withHeader({ a: f32([0, 12], [2]) }, 12),
        SafetensorsErrorCode.ShapeMismatch,
        /F32 \[2\] needs 8 bytes but data_offsets \[0, 12\] hold 12/,
      ],
      ['metadata not strings', withHeader({ __metadata__: { n: 1 } }, 0), SafetensorsErrorCode.InvalidHeader, /__metadata__.n must be a string/],
    ];
    it.each(cases)('%s', (_, file, code, message) =>
      expectCode(
        catching(() => parseSafetensors(file)),
        code,
        message,
      ),
    );
  });
});

describe('serializeSafetensors', () => {
  it('writes the same bytes as Python for the same tensors and metadata', () => {
    const { tensors } = parseSafetensors(PYTHON_FILE);
    // Python orders the header keys as it likes; compare the parsed header and the data section.
    const ours = serializeSafetensors(tensors, { format: 'pt', source: 'trellis test' });
    const headerOf = (b: Buffer) => JSON.parse(b.subarray(8, 8 + Number(b.readBigUInt64LE(0))).toString());
    const dataOf = (b: Buffer) => b.subarray(8 + Number(b.readBigUInt64LE(0)));
    expect(ours.readBigUInt64LE(0)).toBe(PYTHON_FILE.readBigUInt64LE(0));
    expect(headerOf(ours)).toEqual(headerOf(PYTHON_FILE));
    expect(Buffer.compare(dataOf(ours), dataOf(PYTHON_FILE))).toBe(0);
  });

  it('takes typed arrays made in another realm (as native TensorFlow hands them to code in a jest sandbox)', () => {
    const foreign = runInNewContext('new Float32Array([1.5, -2, 3.25])') as Float32Array;
    expect(foreign instanceof Float32Array).toBe(false);
    const { tensors } = parseSafetensors(serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: foreign } }));
    expect(Array.from(tensors.w.data as Float32Array)).toEqual([1.5, -2, 3.25]);
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: runInNewContext('new Int32Array(3)') as unknown as Float32Array } })).toThrow(
      /Float32Array/,
    );
  });

  it('encodes F16/BF16 from float32 with round to nearest even', () => {
    const bytes = serializeSafetensors({
      h: { dtype: 'F16', shape: [VALUES.length], data: new Float32Array(VALUES) },
      b: { dtype: 'BF16', shape: [VALUES.length], data: new Float32Array(VALUES) },
    });
    const back = parseSafetensors(bytes).tensors;
    expect(Array.from(back.h.data as Float32Array)).toEqual(F16_AS_F32);
    expect(Array.from(back.b.data as Float32Array)).toEqual(BF16_AS_F32);
  });

  it('rejects data that does not fit the record', () => {
    expectCode(
      catching(() => serializeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })),
      SafetensorsErrorCode.ShapeMismatch,
      /\[3\] has 3 elements but data has 2/,
    );
    expectCode(
      catching(() => serializeSafetensors({ a: { dtype: 'I32', shape: [2], data: new Float32Array(2) } })),
      SafetensorsErrorCode.InvalidTensor,
      /I32 data must be a Int32Array, got Float32Array/,
    );
    expectCode(
      catching(() => serializeSafetensors({ a: { dtype: 'F64' as never, shape: [1], data: new Float32Array(1) } })),
      SafetensorsErrorCode.UnknownDtype,
      /F64/,
    );
  });
});

describe('openSafetensors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'trellis-st-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const records = (): Record<string, TensorRecord> => ({
    'model.embed.weight': { dtype: 'F32', shape: [4, 3], data: new Float32Array(12).map((_, i) => i - 5.5) },
    'model.layers.0.w': { dtype: 'BF16', shape: [2, 2], data: new Float32Array([1, -2, 0.5, 3]) },
    'model.layers.1.w': { dtype: 'F16', shape: [3], data: new Float32Array([0.25, -8, 1024]) },
    'model.pos': { dtype: 'I64', shape: [2], data: new BigInt64Array([0n, 1n]) },
    'lm_head.weight': { dtype: 'F32', shape: [5], data: new Float32Array([1, 2, 3, 4, 5]) },
  });

  it('reads single tensors from a file by offset, with info before any read', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, records(), { format: 'pt' });
    const reader = await openSafetensors(path);
    try {
      expect(reader.keys()).toEqual(Object.keys(records()).sort());
      expect(reader.info('model.layers.0.w')).toEqual({ dtype: 'BF16', shape: [2, 2] });
      expect(reader.metadata()).toEqual({ format: 'pt' });
      for (const [name, t] of Object.entries(records())) expect(await reader.read(name)).toEqual(t);
      await expect(reader.read('nope')).rejects.toThrow(/no tensor named nope/);
    } finally {
      await reader.close();
    }
    // the folder form finds model.safetensors
    const again = await openSafetensors(dir);
    expect(again.keys()).toHaveLength(5);
    await again.close();
  });

  it('writes and reads a sharded checkpoint through its index', async () => {
    // 48 + 8 + 6 + 16 + 20 bytes with a 50-byte limit: [embed] [layers.0, layers.1, pos, lm_head]... in order given
    const files = await writeShardedSafetensors(dir, records(), 50, { format: 'pt' });
    expect(files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(await fs.readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
    // 12 + 4 + 3 + 2 + 5 elements, as transformers' num_parameters() counts them.
    expect(index.metadata).toEqual({ total_parameters: 26, total_size: 98 });
    expect(index.weight_map['model.embed.weight']).toBe(files[0]);
    expect(index.weight_map['lm_head.weight']).toBe(files[1]);
    for (const where of [dir, join(dir, 'model.safetensors.index.json')]) {
      const reader = await openSafetensors(where);
      expect(reader.keys()).toEqual(Object.keys(records()).sort());
      for (const [name, t] of Object.entries(records())) expect(await reader.read(name)).toEqual(t);
      await reader.close();
    }
  });

  it('rejects an index that points at a shard without the tensor, and a corrupt file', async () => {
    await writeShardedSafetensors(dir, records(), 50);
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await fs.readFile(indexPath, 'utf8'));
    index.weight_map['model.embed.weight'] = 'model-00002-of-00002.safetensors';
    await fs.writeFile(indexPath, JSON.stringify(index));
    expectCode(
      await openSafetensors(dir).catch((e) => e),
      SafetensorsErrorCode.InvalidIndex,
      /puts model.embed.weight in model-00002-of-00002.safetensors, which does not hold it/,
    );
    const bad = join(dir, 'bad.safetensors');
    await fs.writeFile(bad, withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4));
    expectCode(
      await openSafetensors(bad).catch((e) => e),
      SafetensorsErrorCode.InvalidOffsets,
      /bad\.safetensors: tensor a: data_offsets \[0, 8\] run past the 4-byte data section/,
    );
  });
});

describe('as the reference implementation (fixtures/make-parity-reference.py: safetensors 0.8.0, huggingface_hub 2.4.0)', () => {
  const f32 = (...v: number[]): TensorRecord => ({ dtype: 'F32', shape: [v.length], data: new Float32Array(v) });

  it('keeps a tensor named __proto__ and orders names by UTF-8 bytes, byte for byte as Python writes them', () => {
    const names =
      'e8000000000000007b225f5f70726f746f5f5f223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d2c2261223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b382c31325d7d2c22ee8080223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b31322c31365d7d2c22f09f9880223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b31362c32305d7d7d2000004040000080400000a0400000803f00000040';
    // Built with defineProperty: a plain assignment of __proto__ would not make an entry.
    const tensors: Record<string, TensorRecord> = { '\ue000': f32(1), '\u{1F600}': f32(2), a: f32(5) };
    Object.defineProperty(tensors, '__proto__', { value: f32(3, 4), enumerable: true });
    expect(serializeSafetensors(tensors).toString('hex')).toBe(names);
    const back = parseSafetensors(Buffer.from(names, 'hex')).tensors;
    expect(Object.keys(back)).toEqual(['__proto__', 'a', '\ue000', '\u{1F600}']);
    expect(Array.from(back['__proto__'].data as Float32Array)).toEqual([3, 4]);
  });

  it('writes "__metadata__": {} for empty metadata and nothing without metadata, as Python does', () => {
    const one = { w: f32(1.5) };
    expect(serializeSafetensors(one, {}).toString('hex')).toBe(
      '48000000000000007b225f5f6d657461646174615f5f223a7b7d2c2277223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c345d7d7d0000c03f',
    );
    expect(serializeSafetensors(one).toString('hex')).toBe(
      '38000000000000007b2277223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c345d7d7d20200000c03f',
    );
  });

  it('shards as save_pretrained: a tensor over the limit gets its own shard and the open one keeps filling', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'trellis-shards-'));
    try {
      const sizes: [string, number][] = [
        ['a', 10],
        ['b', 10],
        ['big', 50],
        ['c', 5],
        ['d', 12],
        ['e', 30],
        ['f', 1],
      ];
      const tensors = Object.fromEntries(sizes.map(([name, n]) => [name, { dtype: 'F32', shape: [n], data: new Float32Array(n) } as TensorRecord]));
      const files = await writeShardedSafetensors(dir, tensors, 100);
      const index = JSON.parse(await fs.readFile(join(dir, 'model.safetensors.index.json'), 'utf8'));
      const plan: Record<string, string[]> = {};
      for (const [name, file] of Object.entries(index.weight_map as Record<string, string>)) (plan[file] ??= []).push(name);
      expect(files).toEqual(Object.keys(plan).sort());
      expect(plan).toEqual({
        'model-00001-of-00004.safetensors': ['big'],
        'model-00002-of-00004.safetensors': ['a', 'b', 'c'],
        'model-00003-of-00004.safetensors': ['e'],
        'model-00004-of-00004.safetensors': ['d', 'f'],
      });
      expect(index.metadata).toEqual({ total_parameters: 118, total_size: 472 });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
