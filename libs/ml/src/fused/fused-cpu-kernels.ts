import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { type AdamWConstants, FusedKernel } from './fused-kernel-names';
import { rowTable, tableRowOf } from './row-table';

/*
 * The fused chains as single JavaScript loops on the cpu backend (and so on cpu-blas, which is
 * the cpu backend with our BLAS and elementwise kernels). Unfused, each chain is 4–9 kernels
 * forward and as many again backward, each a pass over the whole tensor with a new output;
 * here it is one pass forward and one backward, intermediate values kept in registers.
 * Sums are taken in float64 and each output rounded once to float32; fused-ops.unit.spec.ts
 * checks every kernel against the unfused chain.
 */

type Args = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };

function values(backend: MathBackendCPU, t: tf.TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

function rmsNorm({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { x, weight } = inputs as { x: tf.TensorInfo; weight: tf.TensorInfo };
  const eps = (attrs as { eps: number }).eps;
  const xv = values(backend, x);
  const w = values(backend, weight);
  const h = x.shape[x.shape.length - 1]!;
  const rows = xv.length / h;
  const y = new Float32Array(xv.length);
  const rstd = new Float32Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += h) {
    let sum = 0;
    for (let j = 0; j < h; j++) sum += xv[o + j]! * xv[o + j]!;
    const rs = Math.fround(1 / Math.sqrt(Math.fround(sum / h) + eps));
    rstd[r] = rs;
    for (let j = 0; j < h; j++) y[o + j] = Math.fround(xv[o + j]! * rs) * w[j]!;
  }
  return [backend.makeTensorInfo(x.shape, 'float32', y), backend.makeTensorInfo([...x.shape.slice(0, -1), 1], 'float32', rstd)];
}

function rmsNormGrad({ inputs, backend }: Args): tf.TensorInfo[] {
  const { dy, x, weight, rstd } = inputs as Record<'dy' | 'x' | 'weight' | 'rstd', tf.TensorInfo>;
  const g = values(backend, dy);
  const xv = values(backend, x);
  const w = values(backend, weight);
  const rs = values(backend, rstd);
  const h = w.length;
  const dx = new Float32Array(xv.length);
  const dw = new Float64Array(h);
  for (let r = 0, o = 0; r < rs.length; r++, o += h) {
    const s = rs[r]!;
    // dx_j = s·g_j·w_j − x_j·s³/h·Σ_i g_i·w_i·x_i
    let dot = 0;
    for (let j = 0; j < h; j++) dot += g[o + j]! * w[j]! * xv[o + j]!;
    const coef = (s * s * s * dot) / h;
    for (let j = 0; j < h; j++) {
      dx[o + j] = s * g[o + j]! * w[j]! - xv[o + j]! * coef;
      dw[j] += g[o + j]! * xv[o + j]! * s;
    }
  }
  return [backend.makeTensorInfo(x.shape, 'float32', dx), backend.makeTensorInfo(weight.shape, 'float32', Float32Array.from(dw))];
}

function swiGlu({ inputs, backend }: Args): tf.TensorInfo {
  const { gate, up } = inputs as { gate: tf.TensorInfo; up: tf.TensorInfo };
  const a = values(backend, gate);
  const u = values(backend, up);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = (v / (1 + Math.exp(-v))) * u[i]!;
  }
  return backend.makeTensorInfo(gate.shape, 'float32', out);
}

function swiGluGrad({ inputs, backend }: Args): tf.TensorInfo[] {
  const { dy, gate, up } = inputs as Record<'dy' | 'gate' | 'up', tf.TensorInfo>;
  const g = values(backend, dy);
  const a = values(backend, gate);
  const u = values(backend, up);
  const dGate = new Float32Array(a.length);
  const dUp = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    const sig = 1 / (1 + Math.exp(-v));
    dUp[i] = g[i]! * v * sig;
    // d silu(v)/dv = σ(v)·(1 + v·(1 − σ(v)))
    dGate[i] = g[i]! * u[i]! * sig * (1 + v * (1 - sig));
  }
  return [backend.makeTensorInfo(gate.shape, 'float32', dGate), backend.makeTensorInfo(up.shape, 'float32', dUp)];
}

function rotary({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const { x, cos, sin } = inputs as Record<'x' | 'cos' | 'sin', tf.TensorInfo>;
  const transpose = (attrs as { transpose: boolean }).transpose;
  const xv = values(backend, x);
  const c = values(backend, cos);
  const s = values(backend, sin);
  const d = x.shape[x.shape.length - 1]!;
  const half = d / 2;
  const table = rowTable(x.shape, cos.shape)!;
  const out = new Float32Array(xv.length);
  for (let i = 0, o = 0; o < xv.length; i++, o += d) {
    const t = tableRowOf(table, i) * d;
    for (let j = 0; j < half; j++) {
      const x1 = xv[o + j]!;
      const x2 = xv[o + half + j]!;
      if (transpose) {
        // Rᵀ: the gradient of x·cos + rotate_half(x)·sin, whose rotation is [x1, x2] → [−x2, x1].
        out[o + j] = x1 * c[t + j]! + x2 * s[t + half + j]!;
        out[o + half + j] = x2 * c[t + half + j]! - x1 * s[t + j]!;
      } else {
        out[o + j] = x1 * c[t + j]! - x2 * s[t + j]!;
        out[o + half + j] = x2 * c[t + half + j]! + x1 * s[t + half + j]!;
      }
    }
  }
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

function scaledMaskedSoftmax({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const { scores, mask } = inputs as { scores: tf.TensorInfo; mask?: tf.TensorInfo };
  const scale = (attrs as { scale: number }).scale;
  const sv = values(backend, scores);
  const m = mask ? values(backend, mask) : null;
  const table = mask ? rowTable(scores.shape, mask.shape)! : null;
  const n = scores.shape[scores.shape.length - 1]!;
  const out = new Float32Array(sv.length);
  const row = new Float64Array(n);
  for (let i = 0, o = 0; o < sv.length; i++, o += n) {
    const mo = table ? tableRowOf(table, i) * n : 0;
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      // Rounded to float32 as the unfused mul and add would store it.
      const v = m ? Math.fround(Math.fround(sv[o + j]! * scale) + m[mo + j]!) : Math.fround(sv[o + j]! * scale);
      row[j] = v;
      if (v > max) max = v;
    }
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(row[j]! - max);
      row[j] = e;
      sum += e;
    }
    for (let j = 0; j < n; j++) out[o + j] = row[j]! / sum;
  }
  return backend.makeTensorInfo(scores.shape, 'float32', out);
}

function scaledSoftmaxGrad({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const { dy, probs } = inputs as { dy: tf.TensorInfo; probs: tf.TensorInfo };
  const scale = (attrs as { scale: number }).scale;
  const g = values(backend, dy);
  const p = values(backend, probs);
  const n = probs.shape[probs.shape.length - 1]!;
  const out = new Float32Array(p.length);
  for (let o = 0; o < p.length; o += n) {
    let dot = 0;
    for (let j = 0; j < n; j++) dot += g[o + j]! * p[o + j]!;
    for (let j = 0; j < n; j++) out[o + j] = scale * p[o + j]! * (g[o + j]! - dot);
  }
  return backend.makeTensorInfo(probs.shape, 'float32', out);
}

/** log Σ exp over one row, shifted by its maximum. */
function logSumExp(l: Float32Array, o: number, v: number): number {
  let max = -Infinity;
  for (let j = 0; j < v; j++) if (l[o + j]! > max) max = l[o + j]!;
  let sum = 0;
  for (let j = 0; j < v; j++) sum += Math.exp(l[o + j]! - max);
  return max + Math.log(sum);
}

function softmaxCrossEntropy({ inputs, backend }: Args): tf.TensorInfo[] {
  const { logits, targets, weights } = inputs as Record<'logits' | 'targets' | 'weights', tf.TensorInfo>;
  const l = values(backend, logits);
  const t = backend.data.get(targets.dataId).values as Int32Array;
  const w = values(backend, weights);
  const v = logits.shape[1]!;
  const lse = new Float32Array(w.length);
  let loss = 0;
  for (let i = 0, o = 0; i < w.length; i++, o += v) {
    // A row of weight 0 (a prompt or image position, padding) is neither scored nor differentiated.
    if (w[i] === 0) continue;
    const z = logSumExp(l, o, v);
    lse[i] = z;
    loss -= w[i]! * (l[o + t[i]!]! - z);
  }
  return [backend.makeTensorInfo([], 'float32', Float32Array.of(loss)), backend.makeTensorInfo([w.length], 'float32', lse)];
}

function softmaxCrossEntropyGrad({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, logits, targets, weights, lse } = inputs as Record<'dy' | 'logits' | 'targets' | 'weights' | 'lse', tf.TensorInfo>;
  const g = values(backend, dy)[0]!;
  const l = values(backend, logits);
  const t = backend.data.get(targets.dataId).values as Int32Array;
  const w = values(backend, weights);
  const z = values(backend, lse);
  const v = logits.shape[1]!;
  const out = new Float32Array(l.length);
  for (let i = 0, o = 0; i < w.length; i++, o += v) {
    if (w[i] === 0) continue;
    const k = g * w[i]!;
    for (let j = 0; j < v; j++) out[o + j] = k * Math.exp(l[o + j]! - z[i]!);
    out[o + t[i]!] -= k;
  }
  return backend.makeTensorInfo(logits.shape, 'float32', out);
}

/**
 * The optimizer's chain (adamWUpdate's plain path) in one pass, each float32 operation rounded
 * as the kernel it replaces rounds it (Math.fround after every step; a double-rounded sqrt or
 * quotient of float32 operands equals the float32 result), so the update is bit for bit the
 * chain's and a resumed run stays identical to an uninterrupted one on either path.
 */
function adamW({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { param, grad, m, v } = inputs as Record<'param' | 'grad' | 'm' | 'v', tf.TensorInfo>;
  const a = attrs as unknown as AdamWConstants;
  const f = Math.fround;
  const [decay, b1, c1, b2, c2, bc2, eps, stepSize] = [
    f(1 - a.lr * a.weightDecay),
    f(a.beta1),
    f(1 - a.beta1),
    f(a.beta2),
    f(1 - a.beta2),
    f(a.bc2Sqrt),
    f(a.eps),
    f(a.stepSize),
  ];
  const p = values(backend, param);
  const g = values(backend, grad);
  const mv = values(backend, m);
  const vv = values(backend, v);
  const np = new Float32Array(p.length);
  const nm = new Float32Array(p.length);
  const nv = new Float32Array(p.length);
  const decays = a.weightDecay !== 0;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = f(f(mv[i]! * b1) + f(gi * c1));
    const vi = f(f(vv[i]! * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
    const decayed = decays ? f(p[i]! * decay) : p[i]!;
    np[i] = decayed - f(f(mi / denom) * stepSize);
    nm[i] = mi;
    nv[i] = vi;
  }
  return [np, nm, nv].map((values) => backend.makeTensorInfo(param.shape, 'float32', values));
}

const KERNELS: [string, (args: Args) => tf.TensorInfo | tf.TensorInfo[]][] = [
  [FusedKernel.RmsNorm, rmsNorm],
  [FusedKernel.RmsNormGrad, rmsNormGrad],
  [FusedKernel.SwiGlu, swiGlu],
  [FusedKernel.SwiGluGrad, swiGluGrad],
  [FusedKernel.Rotary, rotary],
  [FusedKernel.ScaledMaskedSoftmax, scaledMaskedSoftmax],
  [FusedKernel.ScaledSoftmaxGrad, scaledSoftmaxGrad],
  [FusedKernel.SoftmaxCrossEntropy, softmaxCrossEntropy],
  [FusedKernel.SoftmaxCrossEntropyGrad, softmaxCrossEntropyGrad],
  [FusedKernel.AdamW, adamW],
];

/** Registers the kernels on the cpu backend. Idempotent. */
export function registerFusedCpuKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (tf.getKernel(kernelName, 'cpu')) continue;
    tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}
