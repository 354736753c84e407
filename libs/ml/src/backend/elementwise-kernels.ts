import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './tfjs-registrations';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

/**
 * Fast paths for the cpu backend's float32 binary arithmetic and slicing, installed with the
 * BLAS matmul kernels (the cpu-blas backend). The profile of a LoRA step on the tiny model put
 * Multiply, Add, Sub and Slice, not matmul, at the top: the cpu backend computes every output
 * element's input positions through generic index arithmetic whenever a shape broadcasts, and
 * slices that are not one contiguous run element by element. The shapes a transformer uses are
 * few (equal shapes, a scalar, a row broadcast [.., N] over [.., M, N], a per-row factor
 * [.., M, 1] over [.., M, N], and narrow slices of the last axes); those run as straight loops
 * here, everything else goes to the original kernel.
 */

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };
type Pattern = 'same' | 'scalar' | 'suffix' | 'rows';
/** out = big (op) small, or small (op) big when `swapped`; `inner` as in pattern(). */
type Loop = (out: Float32Array, big: Float32Array, small: Float32Array, inner: number) => void;

const OPERATORS: Record<string, string> = { [tf.Add]: '+', [tf.Sub]: '-', [tf.Multiply]: '*', [tf.RealDiv]: '/' };

/**
 * One loop per operator, pattern and operand order, with the operator written into its body: a
 * function call per element (a shared loop taking the operation as a closure) cost more than
 * the arithmetic and left the fast paths barely faster than the generic kernels.
 */
function makeLoop(operator: string, kind: Pattern, swapped: boolean): Loop {
  const expr = (x: string, y: string) => (swapped ? `${y} ${operator} ${x}` : `${x} ${operator} ${y}`);
  const body: Record<Pattern, string> = {
    same: `for (let i = 0; i < out.length; i++) out[i] = ${expr('big[i]', 'small[i]')};`,
    scalar: `const s = small[0]; for (let i = 0; i < out.length; i++) out[i] = ${expr('big[i]', 's')};`,
    suffix: `for (let i = 0; i < out.length; i += inner) for (let j = 0; j < inner; j++) out[i + j] = ${expr('big[i + j]', 'small[j]')};`,
    rows: `for (let r = 0, i = 0; i < out.length; r++, i += inner) { const s = small[r]; for (let j = 0; j < inner; j++) out[i + j] = ${expr('big[i + j]', 's')}; }`,
  };
  // The source is built from the fixed strings above only, never from input.
  return new Function('out', 'big', 'small', 'inner', body[kind]) as Loop;
}

const LOOPS = new Map<string, Loop>();
for (const [name, operator] of Object.entries(OPERATORS))
  for (const kind of ['same', 'scalar', 'suffix', 'rows'] as Pattern[])
    for (const swapped of [false, true]) LOOPS.set(`${name}/${kind}/${swapped}`, makeLoop(operator, kind, swapped));

let originals: Map<string, tf.KernelConfig> | null = null;

function original(name: string): tf.KernelFunc {
  return originals!.get(name)!.kernelFunc;
}

function f32(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array | null {
  const v = backend.data.get(t.dataId).values;
  return t.dtype === 'float32' && v instanceof Float32Array ? v : null;
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** Leading 1s removed: [1, 1, N] and [N] broadcast alike. */
function squeezeLeading(shape: number[]): number[] {
  let i = 0;
  while (i < shape.length - 1 && shape[i] === 1) i++;
  return shape.slice(i);
}

/**
 * How `small` broadcasts over `big` when it is one of the fast shapes: 'same', 'scalar',
 * 'suffix' (small is big's trailing dimensions: repeats every `inner` elements) or 'rows'
 * (small equals big except a last dimension of 1: one value per row of `inner`). Null otherwise.
 */
function pattern(big: number[], small: number[]): { kind: Pattern; inner: number } | null {
  const s = squeezeLeading(small);
  const n = sizeOf(small);
  if (n === 1) return { kind: 'scalar', inner: 1 };
  if (s.length > big.length) return null;
  const tail = big.slice(big.length - s.length);
  if (s.every((d, i) => d === tail[i])) return sizeOf(big) === n ? { kind: 'same', inner: n } : { kind: 'suffix', inner: n };
  // [.., M, 1] against [.., M, N]: the shapes agree except the last dimension.
  if (s[s.length - 1] === 1 && s.length >= 2) {
    const head = s.slice(0, -1);
    const bigHead = big.slice(big.length - s.length, -1);
    const outer = big.slice(0, big.length - s.length);
    if (outer.every((d) => d === 1) && head.every((d, i) => d === bigHead[i])) return { kind: 'rows', inner: big[big.length - 1] };
  }
  return null;
}

function binaryKernel(name: string): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend;
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (av && bv) {
      const aBig = sizeOf(a.shape) >= sizeOf(b.shape);
      const [big, small, bigV, smallV] = aBig ? [a, b, av, bv] : [b, a, bv, av];
      const p = pattern(big.shape, small.shape);
      // The output takes the bigger operand's shape only when broadcasting cannot widen it.
      if (p && small.shape.length <= big.shape.length) {
        const out = new Float32Array(bigV.length);
        // Keep the operand order: Sub and RealDiv are not symmetric.
        LOOPS.get(`${name}/${p.kind}/${!aBig}`)!(out, bigV, smallV, p.inner);
        return backend.makeTensorInfo(big.shape, 'float32', out);
      }
    }
    return original(name)(args as unknown as Parameters<tf.KernelFunc>[0]);
  }) as unknown as tf.KernelFunc;
}

/**
 * Slice as contiguous runs: the axes after the last one that is cut are copied whole, so each
 * run is one `set` of a subarray; the outer positions are walked with an odometer.
 */
function sliceKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend;
  const xv = f32(backend, x);
  if (!xv || x.shape.length === 0) return original(tf.Slice)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  const shape = x.shape;
  const rank = shape.length;
  const out = new Float32Array(sizeOf(s));
  if (out.length === 0) return backend.makeTensorInfo(s, 'float32', out);
  // The last axis that is cut; everything after it is whole.
  let cut = rank - 1;
  while (cut > 0 && s[cut] === shape[cut]) cut--;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const run = s[cut] * strides[cut];
  const outer = sizeOf(s.slice(0, cut));
  const idx = new Array<number>(cut).fill(0);
  let base = 0;
  for (let d = 0; d <= cut; d++) base += b[d] * strides[d];
  for (let o = 0, pos = 0; o < outer; o++, pos += run) {
    let off = base;
    for (let d = 0; d < cut; d++) off += idx[d] * strides[d];
    out.set(xv.subarray(off, off + run), pos);
    for (let d = cut - 1; d >= 0; d--) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  return backend.makeTensorInfo(s, 'float32', out);
}

/**
 * Softmax over the last axis in one pass per row. The cpu backend composes it of Max, Sub, Exp,
 * Sum and RealDiv kernels with a tensor between each; this does the same float32 roundings in
 * the same order (the difference to the max rounded, its exp rounded, the sum taken in double
 * and rounded, the quotient rounded), so the result is the same to the bit.
 */
function softmaxKernel(args: KernelArgs): tf.TensorInfo {
  const { logits } = args.inputs as { logits: tf.TensorInfo };
  const { dim } = args.attrs as unknown as { dim: number };
  const backend = args.backend;
  const xv = f32(backend, logits);
  const rank = logits.shape.length;
  if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return original(tf.Softmax)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const n = logits.shape[rank - 1];
  const out = new Float32Array(xv.length);
  const fround = Math.fround;
  for (let i = 0; i < xv.length; i += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (xv[i + j] > max) max = xv[i + j];
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = fround(Math.exp(fround(xv[i + j] - max)));
      out[i + j] = e;
      sum += e;
    }
    const total = fround(sum);
    for (let j = 0; j < n; j++) out[i + j] = out[i + j] / total;
  }
  return backend.makeTensorInfo(logits.shape, 'float32', out);
}

/** The cpu backend's formulas for the unary ops a training step runs most, each in a loop of its own. */
const UNARY: Record<string, (out: Float32Array, x: Float32Array) => void> = {
  [tf.Exp]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]);
  },
  [tf.Sigmoid]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  },
  [tf.Floor]: (out, x) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.floor(x[i]);
  },
};

function unaryKernel(name: string): tf.KernelFunc {
  const loop = UNARY[name];
  return ((args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const xv = f32(args.backend, x);
    if (!xv) return original(name)(args as unknown as Parameters<tf.KernelFunc>[0]);
    const out = new Float32Array(xv.length);
    loop(out, xv);
    return args.backend.makeTensorInfo(x.shape, 'float32', out);
  }) as unknown as tf.KernelFunc;
}

/**
 * Transpose by walking the output in order with an odometer over the input's strides (the cpu
 * backend converts every element's index to a location and back: 140 ns per element on the
 * attention heads' [8, 128, 8, 64]). When the last axis stays last, whole rows are copied.
 */
function transposeKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { perm } = args.attrs as unknown as { perm: number[] };
  const backend = args.backend;
  const xv = f32(backend, x);
  const rank = x.shape.length;
  if (!xv || rank < 2) return original(tf.Transpose)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = new Array<number>(rank);
  inStrides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1] * x.shape[d + 1];
  const stride = perm.map((p) => inStrides[p]);
  const out = new Float32Array(xv.length);
  const keepsLast = perm[rank - 1] === rank - 1;
  const inner = shape[rank - 1];
  const innerStride = stride[rank - 1];
  const outerRank = rank - 1;
  const idx = new Array<number>(outerRank).fill(0);
  let off = 0;
  for (let pos = 0; pos < out.length; pos += inner) {
    if (keepsLast) out.set(xv.subarray(off, off + inner), pos);
    else for (let j = 0, o = off; j < inner; j++, o += innerStride) out[pos + j] = xv[o];
    for (let d = outerRank - 1; d >= 0; d--) {
      off += stride[d];
      if (++idx[d] < shape[d]) break;
      off -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return backend.makeTensorInfo(shape, 'float32', out);
}

/** Tile row by row: each output row is an input row (found by the odometer), copied once per repeat of the last axis. */
function tileKernel(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = args.attrs as unknown as { reps: number[] };
  const backend = args.backend;
  const xv = f32(backend, x);
  const rank = x.shape.length;
  if (!xv || rank === 0 || reps.length !== rank) return original(tf.Tile)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const shape = x.shape.map((d, i) => d * reps[i]);
  const out = new Float32Array(sizeOf(shape));
  if (out.length === 0) return backend.makeTensorInfo(shape, 'float32', out);
  const row = x.shape[rank - 1];
  const inStrides = new Array<number>(rank);
  inStrides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1] * x.shape[d + 1];
  const idx = new Array<number>(rank - 1).fill(0);
  for (let pos = 0; pos < out.length; pos += shape[rank - 1]) {
    let off = 0;
    for (let d = 0; d < rank - 1; d++) off += (idx[d] % x.shape[d]) * inStrides[d];
    const src = xv.subarray(off, off + row);
    for (let r = 0; r < reps[rank - 1]; r++) out.set(src, pos + r * row);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return backend.makeTensorInfo(shape, 'float32', out);
}

const KERNELS: [string, tf.KernelFunc][] = [
  [tf.Tile, tileKernel as unknown as tf.KernelFunc],
  ...Object.keys(UNARY).map((name) => [name, unaryKernel(name)] as [string, tf.KernelFunc]),
  [tf.Transpose, transposeKernel as unknown as tf.KernelFunc],
  [tf.Softmax, softmaxKernel as unknown as tf.KernelFunc],
  ...Object.keys(OPERATORS).map((name) => [name, binaryKernel(name)] as [string, tf.KernelFunc]),
  [tf.Slice, sliceKernel as unknown as tf.KernelFunc],
];

/** Replaces the cpu backend's Add, Sub, Multiply, RealDiv, Exp, Sigmoid, Floor, Transpose, Tile, Slice and Softmax with the fast paths above. Idempotent. */
export function installElementwiseKernels(): void {
  if (originals) return;
  const saved = new Map<string, tf.KernelConfig>();
  for (const [name] of KERNELS) {
    const config = tf.getKernel(name, 'cpu');
    if (!config)
      throw new MlBackendException(
        MlBackendErrorCode.Unavailable,
        `the cpu backend has no ${name} kernel to replace (is @tensorflow/tfjs-backend-cpu loaded?)`,
      );
    saved.set(name, config);
  }
  originals = saved;
  for (const [name, kernelFunc] of KERNELS) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc });
  }
}

/** Puts the cpu backend's own kernels back (the plain cpu backend is the reference). */
export function uninstallElementwiseKernels(): void {
  if (!originals) return;
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(config);
  }
  originals = null;
}

export function elementwiseKernelsInstalled(): boolean {
  return originals !== null;
}
