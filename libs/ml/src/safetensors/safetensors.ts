import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from './half';
import { SafetensorsErrorCode, SafetensorsException } from './safetensors.exception';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'I8';
export type TensorData = Float32Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;

/** F16 and BF16 are held as Float32Array: decoded on read, encoded (round to nearest even) on write. */
export interface TensorRecord {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
}

interface HeaderEntry extends TensorInfo {
  /** [begin, end) in the data section (after the 8-byte length and the header). */
  offsets: [number, number];
}

export interface ParsedHeader {
  /** Where the data section starts in the file: 8 + header length. */
  dataStart: number;
  tensors: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
}

export const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1, I8: 1 };
/** Relative order of these dtypes in the reference implementation's Dtype enum. */
const DTYPE_ORDER: Record<SafetensorsDtype, number> = { U8: 0, I8: 1, F16: 2, BF16: 3, I32: 4, F32: 5, I64: 6 };
const DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];
/** The reference implementation's limit: a larger header is taken as a corrupt length. */
export const MAX_HEADER_BYTES = 100_000_000;

function fail(code: SafetensorsErrorCode, message: string, field?: string): never {
  throw new SafetensorsException(code, message, field === undefined ? [] : [field]);
}

const numel = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * By the array's own tag rather than instanceof: arrays made in another realm (a vm context,
 * jest's sandbox receiving data from native TensorFlow) are the same kind of array, but fail
 * instanceof against this realm's constructors.
 */
const tagged = (name: string) => (x: unknown) => Object.prototype.toString.call(x) === `[object ${name}]`;

const ARRAY_TYPES: Record<SafetensorsDtype, { name: string; is: (x: unknown) => boolean }> = {
  F32: { name: 'Float32Array', is: tagged('Float32Array') },
  F16: { name: 'Float32Array', is: tagged('Float32Array') },
  BF16: { name: 'Float32Array', is: tagged('Float32Array') },
  I32: { name: 'Int32Array', is: tagged('Int32Array') },
  I64: { name: 'BigInt64Array', is: tagged('BigInt64Array') },
  U8: { name: 'Uint8Array', is: tagged('Uint8Array') },
  I8: { name: 'Int8Array', is: tagged('Int8Array') },
};

/**
 * Checks a header as the reference implementation does: a JSON object whose entries name a
 * known dtype, a shape of non-negative integers and data_offsets [begin, end] whose byte size
 * is elements × dtype size; the tensors, ordered by offset, must tile the data section exactly
 * (from 0, no gap, no overlap, ending where the file ends).
 */
export function parseHeader(prefix: Uint8Array, fileSize: number): ParsedHeader {
  if (fileSize < 8 || prefix.length < 8)
    fail(SafetensorsErrorCode.InvalidHeader, `not a safetensors file: ${fileSize} bytes, fewer than the 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    fail(SafetensorsErrorCode.InvalidHeader, `header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  const headerLength = Number(n);
  if (8 + headerLength > fileSize) fail(SafetensorsErrorCode.InvalidHeader, `header length ${headerLength} runs past the end of the ${fileSize}-byte file`);
  if (prefix.length < 8 + headerLength) fail(SafetensorsErrorCode.InvalidHeader, 'header bytes missing');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLength)));
  } catch (err) {
    fail(SafetensorsErrorCode.InvalidHeader, `header is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail(SafetensorsErrorCode.InvalidHeader, 'header must be a JSON object');
  const dataSize = fileSize - 8 - headerLength;
  // Null-prototype records: a key named __proto__ is an ordinary entry, not a prototype.
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const tensors = new Map<string, HeaderEntry>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw))
        fail(SafetensorsErrorCode.InvalidHeader, '__metadata__ must be an object of strings', '__metadata__');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(SafetensorsErrorCode.InvalidHeader, `__metadata__.${k} must be a string`, `__metadata__.${k}`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(SafetensorsErrorCode.InvalidHeader, `tensor ${name}: entry must be an object`, name);
    if (typeof e.dtype !== 'string' || !(DTYPES as string[]).includes(e.dtype)) {
      fail(
        SafetensorsErrorCode.UnknownDtype,
        `tensor ${name}: dtype ${JSON.stringify(e.dtype)} is not supported; valid: ${DTYPES.join(', ')}`,
        `${name}.dtype`,
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(SafetensorsErrorCode.InvalidHeader, `tensor ${name}: shape ${JSON.stringify(e.shape)} must be an array of non-negative integers`, `${name}.shape`);
    }
    const o = e.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !o.every((x) => Number.isSafeInteger(x) && x >= 0) || o[0] > o[1]) {
      fail(
        SafetensorsErrorCode.InvalidOffsets,
        `tensor ${name}: data_offsets ${JSON.stringify(o)} must be [begin, end] with 0 <= begin <= end`,
        `${name}.data_offsets`,
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape as number[];
    const [begin, end] = o as [number, number];
    if (end > dataSize)
      fail(
        SafetensorsErrorCode.InvalidOffsets,
        `tensor ${name}: data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`,
        `${name}.data_offsets`,
      );
    const bytes = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== bytes) {
      fail(
        SafetensorsErrorCode.ShapeMismatch,
        `tensor ${name}: ${dtype} ${JSON.stringify(shape)} needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
        `${name}.data_offsets`,
      );
    }
    tensors.set(name, { dtype, shape, offsets: [begin, end] });
  }
  let at = 0;
  let previous = '';
  for (const [name, t] of [...tensors].sort((a, b) => a[1].offsets[0] - b[1].offsets[0] || a[1].offsets[1] - b[1].offsets[1])) {
    const [begin, end] = t.offsets;
    if (begin < at)
      fail(SafetensorsErrorCode.InvalidOffsets, `tensor ${name} [${begin}, ${end}] overlaps ${previous} (which ends at ${at})`, `${name}.data_offsets`);
    if (begin > at) fail(SafetensorsErrorCode.InvalidOffsets, `tensor ${name} starts at ${begin}, leaving a gap after byte ${at}`, `${name}.data_offsets`);
    at = end;
    previous = name;
  }
  if (at !== dataSize) fail(SafetensorsErrorCode.InvalidOffsets, `the tensors cover ${at} bytes but the data section has ${dataSize}`);
  return { dataStart: 8 + headerLength, tensors, metadata };
}

/** Decodes a tensor's little-endian bytes (copied, so the result is aligned and owned). */
export function decodeTensor(dtype: SafetensorsDtype, shape: number[], bytes: Uint8Array): TensorRecord {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const buf = copy.buffer;
  const n = numel(shape);
  switch (dtype) {
    case 'F32':
      return { dtype, shape, data: new Float32Array(buf, 0, n) };
    case 'I32':
      return { dtype, shape, data: new Int32Array(buf, 0, n) };
    case 'I64':
      return { dtype, shape, data: new BigInt64Array(buf, 0, n) };
    case 'U8':
      return { dtype, shape, data: copy };
    case 'I8':
      return { dtype, shape, data: new Int8Array(buf, 0, n) };
    case 'F16':
    case 'BF16': {
      const half = new Uint16Array(buf, 0, n);
      const out = new Float32Array(n);
      const f = dtype === 'F16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
      for (let i = 0; i < n; i++) out[i] = f(half[i]);
      return { dtype, shape, data: out };
    }
  }
}

function encodeTensor(name: string, t: TensorRecord): Uint8Array {
  if (!(DTYPES as string[]).includes(t.dtype)) {
    fail(SafetensorsErrorCode.UnknownDtype, `tensor ${name}: dtype ${JSON.stringify(t.dtype)} is not supported; valid: ${DTYPES.join(', ')}`, `${name}.dtype`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(SafetensorsErrorCode.InvalidTensor, `tensor ${name}: shape ${JSON.stringify(t.shape)} must be non-negative integers`, `${name}.shape`);
  }
  if (!ARRAY_TYPES[t.dtype].is(t.data)) {
    fail(
      SafetensorsErrorCode.InvalidTensor,
      `tensor ${name}: ${t.dtype} data must be a ${ARRAY_TYPES[t.dtype].name}, got ${t.data?.constructor?.name}`,
      `${name}.data`,
    );
  }
  const n = numel(t.shape);
  if (t.data.length !== n)
    fail(
      SafetensorsErrorCode.ShapeMismatch,
      `tensor ${name}: shape ${JSON.stringify(t.shape)} has ${n} elements but data has ${t.data.length}`,
      `${name}.data`,
    );
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const f = t.dtype === 'F16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
    const half = new Uint16Array(n);
    const src = t.data as Float32Array;
    for (let i = 0; i < n; i++) half[i] = f(src[i]);
    return new Uint8Array(half.buffer);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Names in the order of their UTF-8 bytes, which is code point order: how the Rust reference
 * sorts them and how Python's sort_keys does. JavaScript's own string order (UTF-16 code
 * units) puts U+10000 and above before U+E000 to U+FFFF.
 */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The file as the Python `safetensors` library lays it out: tensors ordered by dtype, in the
 * reverse of the reference implementation's dtype order (which puts wider types first, so
 * every tensor stays aligned), then by name; the JSON header padded with spaces to a
 * multiple of 8 bytes.
 */
export function serializeSafetensors(tensors: Record<string, TensorRecord>, metadata?: Record<string, string>): Buffer {
  const names = Object.keys(tensors).sort((a, b) => (DTYPE_ORDER[tensors[b].dtype] ?? 0) - (DTYPE_ORDER[tensors[a].dtype] ?? 0) || compareNames(a, b));
  // Null prototype, so that a tensor named __proto__ becomes a header entry like any other.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  // Python writes "__metadata__": {} for metadata={} and nothing for None; so does this.
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail(SafetensorsErrorCode.InvalidHeader, `metadata.${k} must be a string`, `metadata.${k}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail(SafetensorsErrorCode.InvalidTensor, 'a tensor cannot be called __metadata__', name);
    const bytes = encodeTensor(name, tensors[name]);
    header[name] = { dtype: tensors[name].dtype, shape: tensors[name].shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const lengthPrefix = Buffer.alloc(8);
  lengthPrefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([lengthPrefix, json, ...chunks]);
}

export function parseSafetensors(buf: Buffer | Uint8Array): { tensors: Record<string, TensorRecord>; metadata: Record<string, string> } {
  const header = parseHeader(buf, buf.length);
  const tensors: Record<string, TensorRecord> = Object.create(null) as Record<string, TensorRecord>;
  for (const [name, t] of header.tensors) {
    tensors[name] = decodeTensor(t.dtype, t.shape, buf.subarray(header.dataStart + t.offsets[0], header.dataStart + t.offsets[1]));
  }
  return { tensors, metadata: header.metadata };
}

export async function writeSafetensors(path: string, tensors: Record<string, TensorRecord>, metadata?: Record<string, string>): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  await fs.mkdir(dirname(path), { recursive: true });
  // Written beside and renamed, so a reader never sees half a file.
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, path);
}

export interface SafetensorsReader {
  keys(): string[];
  info(name: string): TensorInfo;
  /** Reads only this tensor's bytes from disk. */
  read(name: string): Promise<TensorRecord>;
  /** The __metadata__ of the (first) file. */
  metadata(): Record<string, string>;
  close(): Promise<void>;
}

class SingleFileReader implements SafetensorsReader {
  private constructor(
    private readonly path: string,
    private readonly handle: fs.FileHandle,
    private readonly header: ParsedHeader,
  ) {}

  static async open(path: string): Promise<SingleFileReader> {
    const handle = await fs.open(path, 'r');
    try {
      const { size } = await handle.stat();
      const lengthBytes = new Uint8Array(8);
      await handle.read(lengthBytes, 0, Math.min(8, size), 0);
      const headerLength = size >= 8 ? new DataView(lengthBytes.buffer).getBigUint64(0, true) : 0n;
      // Read the header only if its length is plausible; parseHeader reports what is wrong.
      const want = headerLength <= BigInt(Math.min(MAX_HEADER_BYTES, size - 8)) ? 8 + Number(headerLength) : 8;
      const prefix = new Uint8Array(want);
      await handle.read(prefix, 0, want, 0);
      const header = parseHeader(size >= 8 && want > 8 ? prefix : lengthBytes, size);
      return new SingleFileReader(path, handle, header);
    } catch (err) {
      await handle.close();
      if (err instanceof SafetensorsException) err.message = `${path}: ${err.message}`;
      throw err;
    }
  }

  keys(): string[] {
    return [...this.header.tensors.keys()].sort(compareNames);
  }

  info(name: string): TensorInfo {
    const t = this.entry(name);
    return { dtype: t.dtype, shape: [...t.shape] };
  }

  async read(name: string): Promise<TensorRecord> {
    const t = this.entry(name);
    const length = t.offsets[1] - t.offsets[0];
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(bytes, done, length - done, this.header.dataStart + t.offsets[0] + done);
      if (bytesRead === 0) fail(SafetensorsErrorCode.InvalidOffsets, `${this.path}: file ended while reading ${name}`);
      done += bytesRead;
    }
    return decodeTensor(t.dtype, [...t.shape], bytes);
  }

  metadata(): Record<string, string> {
    return Object.assign(Object.create(null) as Record<string, string>, this.header.metadata);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private entry(name: string): HeaderEntry {
    const t = this.header.tensors.get(name);
    if (!t) fail(SafetensorsErrorCode.TensorNotFound, `${this.path}: no tensor named ${name}`, name);
    return t;
  }
}

export const INDEX_FILE = 'model.safetensors.index.json';

class ShardedReader implements SafetensorsReader {
  constructor(
    private readonly shards: Map<string, SafetensorsReader>,
    private readonly weightMap: Map<string, string>,
  ) {}

  keys(): string[] {
    return [...this.weightMap.keys()].sort(compareNames);
  }
  info(name: string): TensorInfo {
    return this.shard(name).info(name);
  }
  read(name: string): Promise<TensorRecord> {
    return this.shard(name).read(name);
  }
  metadata(): Record<string, string> {
    return this.shards.values().next().value?.metadata() ?? {};
  }
  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((s) => s.close()));
  }
  private shard(name: string): SafetensorsReader {
    const file = this.weightMap.get(name);
    if (!file) fail(SafetensorsErrorCode.TensorNotFound, `no tensor named ${name} in the weight_map`, name);
    return this.shards.get(file)!;
  }
}

async function openIndex(indexPath: string): Promise<SafetensorsReader> {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(await fs.readFile(indexPath, 'utf8'));
  } catch (err) {
    fail(SafetensorsErrorCode.InvalidIndex, `${indexPath}: not readable JSON: ${(err as Error).message}`);
  }
  const wm = index?.weight_map;
  if (!wm || typeof wm !== 'object' || Array.isArray(wm))
    fail(SafetensorsErrorCode.InvalidIndex, `${indexPath}: weight_map must be an object of tensor -> file`, 'weight_map');
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\') || file === '..') {
      fail(SafetensorsErrorCode.InvalidIndex, `${indexPath}: weight_map[${name}] must be a file name in the same folder`, `weight_map.${name}`);
    }
    weightMap.set(name, file);
  }
  const shards = new Map<string, SafetensorsReader>();
  try {
    for (const file of new Set(weightMap.values())) shards.set(file, await SingleFileReader.open(join(dirname(indexPath), file)));
    const keysOf = new Map([...shards].map(([file, reader]) => [file, new Set(reader.keys())]));
    for (const [name, file] of weightMap) {
      if (!keysOf.get(file)!.has(name))
        fail(SafetensorsErrorCode.InvalidIndex, `${indexPath}: weight_map puts ${name} in ${file}, which does not hold it`, `weight_map.${name}`);
    }
  } catch (err) {
    await Promise.all([...shards.values()].map((s) => s.close()));
    throw err;
  }
  return new ShardedReader(shards, weightMap);
}

/**
 * Opens a .safetensors file, a model.safetensors.index.json (sharded checkpoint), or a folder
 * holding either (the index wins, then model.safetensors, then a lone *.safetensors). Only the
 * headers are read here; each read() fetches one tensor's bytes.
 */
export async function openSafetensors(pathOrDir: string): Promise<SafetensorsReader> {
  const st = await fs.stat(pathOrDir);
  if (st.isDirectory()) {
    const files = await fs.readdir(pathOrDir);
    if (files.includes(INDEX_FILE)) return openIndex(join(pathOrDir, INDEX_FILE));
    if (files.includes('model.safetensors')) return SingleFileReader.open(join(pathOrDir, 'model.safetensors'));
    const candidates = files.filter((f) => f.endsWith('.safetensors'));
    if (candidates.length === 1) return SingleFileReader.open(join(pathOrDir, candidates[0]));
    fail(SafetensorsErrorCode.InvalidIndex, `${pathOrDir}: no ${INDEX_FILE} and ${candidates.length} .safetensors files; cannot tell which to open`);
  }
  if (pathOrDir.endsWith('.json')) return openIndex(pathOrDir);
  return SingleFileReader.open(pathOrDir);
}

/**
 * Writes model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json (its
 * metadata: total_parameters, the elements of all tensors, and total_size, their bytes; the
 * weight_map), as Hugging Face transformers' save_pretrained does with huggingface_hub's
 * split_state_dict_into_shards_factory: tensors in the order given fill a shard up to
 * maxShardBytes; a tensor larger than that gets a shard of its own, placed before the shard
 * being filled, which goes on filling. Returns the shard file names.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: Record<string, TensorRecord>,
  maxShardBytes: number,
  metadata?: Record<string, string>,
): Promise<string[]> {
  if (!(maxShardBytes > 0)) fail(SafetensorsErrorCode.InvalidTensor, `maxShardBytes must be positive, got ${maxShardBytes}`, 'maxShardBytes');
  const groups: string[][] = [];
  let current: string[] = [];
  let size = 0;
  let total = 0;
  let parameters = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = numel(t.shape) * (DTYPE_BYTES[t.dtype] ?? 0);
    total += bytes;
    parameters += numel(t.shape);
    if (bytes > maxShardBytes) {
      groups.push([name]);
      continue;
    }
    if (size + bytes > maxShardBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(name);
    size += bytes;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  const pad = (i: number) => String(i).padStart(5, '0');
  const files = groups.map((_, i) => `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`);
  await fs.mkdir(dir, { recursive: true });
  const weightMap: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < groups.length; i++) {
    const shard: Record<string, TensorRecord> = Object.create(null) as Record<string, TensorRecord>;
    for (const name of groups[i]) {
      shard[name] = tensors[name];
      weightMap[name] = files[i];
    }
    await writeSafetensors(join(dir, files[i]), shard, metadata);
  }
  const sortedMap: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(weightMap).sort(compareNames)) sortedMap[name] = weightMap[name];
  // json.dumps(index, indent=2, sort_keys=True) in transformers.
  const index = JSON.stringify({ metadata: { total_parameters: parameters, total_size: total }, weight_map: sortedMap }, null, 2) + '\n';
  await fs.writeFile(join(dir, INDEX_FILE), index);
  return files;
}
