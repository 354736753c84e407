import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './tfjs-registrations';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BlasLibrary, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS } from './blas-library';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };

interface Installed {
  blas: BlasLibrary;
  /** The cpu backend's own kernels, restored by uninstallBlasKernels and used for what BLAS does not cover. */
  originals: Map<string, tf.KernelConfig>;
}

let installed: Installed | null = null;

const KERNELS = [tf.BatchMatMul, tf._FusedMatMul];

function values(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** Row-major strides of a shape, for mapping an output batch index to the input batch indices. */
function batchOffsets(outBatch: number[], inBatch: number[]): Int32Array {
  const total = outBatch.reduce((p, d) => p * d, 1);
  const offsets = new Int32Array(total);
  const rank = outBatch.length;
  const aligned = new Array<number>(rank - inBatch.length).fill(1).concat(inBatch);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = aligned[d] === 1 ? 0 : s;
    s *= aligned[d];
  }
  for (let i = 0; i < total; i++) {
    let rem = i;
    let off = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const idx = rem % outBatch[d];
      rem = Math.floor(rem / outBatch[d]);
      off += idx * inStrides[d];
    }
    offsets[i] = off;
  }
  return offsets;
}

/**
 * [..., M, K] x [..., K, N] with numpy broadcasting of the leading (batch) dimensions. The
 * cpu backend's own kernel maps batch i to (i % batchA, i % batchB), which only agrees with
 * broadcasting when one side has a single batch or both have the same; here each side's batch
 * index is derived from the broadcast output index, so e.g. [2,1,M,K] x [1,3,K,N] is right too.
 */
function blasMatMul(blas: BlasLibrary, backend: MathBackendCPU, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new MlBackendException(
      MlBackendErrorCode.InvalidInput,
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      ['a', 'b'],
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const batch = outBatch.reduce((p, d) => p * d, 1);
  const out = new Float32Array(batch * m * n);
  const outShape = [...outBatch, m, n];
  if (out.length === 0 || k === 0) return backend.makeTensorInfo(outShape, 'float32', out);

  const av = values(backend, a);
  const bv = values(backend, b);
  const ta = transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const tb = transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const aBatchSize = aBatch.reduce((p, d) => p * d, 1);
  const bBatchSize = bBatch.reduce((p, d) => p * d, 1);

  // [batch, M, K] x [K, N] (a dense layer over a sequence): one call with M' = batch*M.
  if (bBatchSize === 1 && !transposeA && aBatchSize === batch) {
    blas.sgemm(CBLAS_ROW_MAJOR, ta, tb, batch * m, n, k, 1, av, lda, bv, ldb, 0, out, n);
    return backend.makeTensorInfo(outShape, 'float32', out);
  }
  const aOff = batchOffsets(outBatch, aBatch);
  const bOff = batchOffsets(outBatch, bBatch);
  const aSize = m * k;
  const bSize = k * n;
  const cSize = m * n;
  for (let i = 0; i < batch; i++) {
    const aStart = aOff[i] * aSize;
    const bStart = bOff[i] * bSize;
    blas.sgemm(
      CBLAS_ROW_MAJOR,
      ta,
      tb,
      m,
      n,
      k,
      1,
      av.subarray(aStart, aStart + aSize),
      lda,
      bv.subarray(bStart, bStart + bSize),
      ldb,
      0,
      out.subarray(i * cSize, (i + 1) * cSize),
      n,
    );
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

function isFloat32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

function original(kernelName: string): tf.KernelFunc {
  const config = installed?.originals.get(kernelName);
  // A plain Error on purpose: our kernels are registered only while `installed` holds the
  // originals of both (installBlasKernels fills it first, uninstallBlasKernels re-registers the
  // originals before clearing it), so no input can get here; reaching it is a bug in this file.
  if (!config) throw new Error(`no original cpu kernel kept for ${kernelName}`);
  return config.kernelFunc;
}

function batchMatMulKernel(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (!installed || !isFloat32(a, b)) return original(tf.BatchMatMul)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  return blasMatMul(installed.blas, args.backend, a, b, transposeA, transposeB);
}

/** Activations applied in place on the fresh output (same formulas as the cpu backend). */
const ELEMENTWISE: Record<string, ((x: number, alpha: number) => number) | undefined> = {
  linear: undefined,
  relu: (x) => (x < 0 ? 0 : x),
  relu6: (x) => (x < 0 ? 0 : x > 6 ? 6 : x),
  elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
  leakyrelu: (x, alpha) => (x < 0 ? alpha * x : x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

function runCpuKernel(name: string, inputs: tf.NamedTensorInfoMap, backend: MathBackendCPU, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'cpu');
  if (!kernel) {
    // Possible when two copies of tfjs-core are installed: the cpu backend registered its
    // kernels with the other one.
    throw new MlBackendException(MlBackendErrorCode.Unavailable, `cpu kernel ${name} is not registered (are two versions of @tensorflow/tfjs-core installed?)`);
  }
  return kernel.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

function fusedMatMulKernel(args: KernelArgs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as tf._FusedMatMulAttrs;
  const act = activation ?? 'linear';
  if (!installed || !isFloat32(a, b, bias, preluActivationWeights) || !(act in ELEMENTWISE || act === 'prelu')) {
    return original(tf._FusedMatMul)(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const backend = args.backend;
  let current = blasMatMul(installed.blas, backend, a, b, transposeA, transposeB);
  const n = current.shape[current.shape.length - 1];

  if (bias) {
    // A bias along the last axis only ([N], [1, N], scalar ...) is added in place; anything
    // else goes through the cpu Add kernel, which knows every broadcast.
    const lastOnly = bias.shape.length <= current.shape.length && bias.shape.slice(0, -1).every((d) => d === 1);
    const size = bias.shape.reduce((p, d) => p * d, 1);
    if (lastOnly && (size === n || size === 1)) {
      const out = values(backend, current);
      const bv = values(backend, bias);
      if (size === 1) {
        for (let i = 0; i < out.length; i++) out[i] += bv[0];
      } else {
        for (let i = 0; i < out.length; i += n) for (let j = 0; j < n; j++) out[i + j] += bv[j];
      }
    } else {
      const added = runCpuKernel(tf.Add, { a: current, b: bias }, backend);
      backend.disposeIntermediateTensorInfo(current);
      current = added;
    }
  }

  if (act === 'prelu') {
    const activated = runCpuKernel(tf.Prelu, { x: current, alpha: preluActivationWeights as tf.TensorInfo }, backend);
    backend.disposeIntermediateTensorInfo(current);
    return activated;
  }
  const f = ELEMENTWISE[act];
  if (f) {
    const out = values(backend, current);
    const alpha = leakyreluAlpha ?? 0.2;
    for (let i = 0; i < out.length; i++) out[i] = f(out[i], alpha);
  }
  return current;
}

/**
 * Replaces the cpu backend's BatchMatMul and _FusedMatMul kernels with ones that call BLAS
 * sgemm. The originals are kept (for non-float32 inputs and for uninstallBlasKernels).
 * Idempotent; a second call with another library only swaps the library.
 */
export function installBlasKernels(blas: BlasLibrary): void {
  if (installed) {
    installed.blas = blas;
    return;
  }
  const originals = new Map<string, tf.KernelConfig>();
  for (const name of KERNELS) {
    const config = tf.getKernel(name, 'cpu');
    if (!config) {
      throw new MlBackendException(
        MlBackendErrorCode.Unavailable,
        `the cpu backend has no ${name} kernel to replace (is @tensorflow/tfjs-backend-cpu loaded?)`,
      );
    }
    originals.set(name, config);
  }
  installed = { blas, originals };
  for (const name of KERNELS) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: (name === tf.BatchMatMul ? batchMatMulKernel : fusedMatMulKernel) as unknown as tf.KernelFunc,
    });
  }
}

/** Puts the cpu backend's own matmul kernels back. */
export function uninstallBlasKernels(): void {
  if (!installed) return;
  for (const [name, config] of installed.originals) {
    tf.unregisterKernel(name, 'cpu');
    tf.registerKernel(config);
  }
  installed = null;
}

export function blasKernelsInstalled(): BlasLibrary | null {
  return installed?.blas ?? null;
}
