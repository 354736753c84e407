import * as tf from '@tensorflow/tfjs-core';
import { registerFusedCpuKernels } from './fused-cpu-kernels';
import { type AdamWConstants, FusedKernel, type FusedKernelName } from './fused-kernel-names';
import { rowTable } from './row-table';

/*
 * The transformer's hot elementwise chains as single ops with hand-written gradients. A training
 * step's tape held every intermediate of these chains (RMSNorm alone is seven kernels forward and
 * about fifteen in its derived backward), and at the tiny size per-kernel dispatch, not
 * arithmetic, set the pace. Each op here is one tape entry (tf.customGrad): on a backend with the
 * fused kernel (the cpu backend, fused-cpu-kernels.ts) one pass forward and one backward; on any
 * other (tensorflow, wasm) RMSNorm, the masked softmax and the cross-entropy run the same chain of
 * standard ops forward and a shorter hand-derived gradient backward, nothing taped inside, which
 * measured faster on native TensorFlow; SwiGLU and rotary run their plain chains there, where a
 * hand-written gradient measured no faster. Only float32 takes the fused path.
 */

registerFusedCpuKernels();

let enabled = true;

/**
 * Turns the fused ops off (every op then runs its plain chain of standard ops, differentiated by
 * tfjs) or back on. For measuring what fusion buys and for checking the two against each other.
 */
export function setFusedOps(on: boolean): void {
  enabled = on;
}

export function fusedOpsEnabled(): boolean {
  return enabled;
}

function hasKernel(name: FusedKernelName): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function runKernel<T extends tf.Tensor | tf.Tensor[]>(name: FusedKernelName, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): T {
  return tf.engine().runKernel(name, inputs, attrs) as T;
}

type Gradient = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** f(inputs) as one tape entry whose gradient is the one f returns (tf.customGrad, typed). */
function withGradient(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: Gradient }, ...inputs: tf.Tensor[]): tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as tf.GradSaveFunc))(...inputs);
}

/** Sums a gradient over the leading dimensions of a per-channel parameter [C]. */
function sumToChannels(x: tf.Tensor, channels: number): tf.Tensor {
  return tf.sum(tf.reshape(x, [-1, channels]), 0);
}

function plainRmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const x32 = tf.cast(x, 'float32');
  return tf.mul(tf.mul(x32, tf.rsqrt(tf.add(tf.mean(tf.square(x32), -1, true), eps))), weight);
}

/** HF MistralRMSNorm / LlamaRMSNorm: x · rsqrt(mean(x², -1) + eps) · weight, over the last dimension. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  if (!enabled || x.dtype !== 'float32') return tf.tidy(() => plainRmsNorm(x, weight, eps));
  const h = weight.size;
  return withGradient(
    ([xi, wi], save) => {
      let y: tf.Tensor;
      let rstd: tf.Tensor;
      if (hasKernel(FusedKernel.RmsNorm)) [y, rstd] = runKernel<tf.Tensor[]>(FusedKernel.RmsNorm, { x: xi!, weight: wi! }, { eps }) as [tf.Tensor, tf.Tensor];
      else {
        rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xi!), -1, true), eps));
        y = tf.mul(tf.mul(xi!, rstd), wi!);
      }
      save([xi!, wi!, rstd]);
      return {
        value: y,
        gradFunc: (dy, [xs, ws, rs]) => {
          if (hasKernel(FusedKernel.RmsNormGrad)) return runKernel<tf.Tensor[]>(FusedKernel.RmsNormGrad, { dy, x: xs!, weight: ws!, rstd: rs! });
          // dx = r·g − x·r³/h·Σ g·x with g = dy·w; dw = Σ_rows dy·x·r.
          const g = tf.mul(dy, ws!);
          const dot = tf.sum(tf.mul(g, xs!), -1, true);
          const dx = tf.sub(tf.mul(g, rs!), tf.mul(xs!, tf.mul(tf.pow(rs!, 3), tf.div(dot, h))));
          return [dx, sumToChannels(tf.mul(dy, tf.mul(xs!, rs!)), h)];
        },
      };
    },
    x,
    weight,
  );
}

/** The Mistral/Llama MLP's gated activation: silu(gate) · up. */
export function swiGlu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (!enabled || gate.dtype !== 'float32' || up.dtype !== 'float32' || !tf.util.arraysEqual(gate.shape, up.shape)) {
    return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
  }
  if (!hasKernel(FusedKernel.SwiGlu) || !hasKernel(FusedKernel.SwiGluGrad)) {
    // Measured on native TensorFlow: a hand-written gradient of this short chain was no faster than tfjs' derived one.
    return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
  }
  return withGradient(
    ([a, u], save) => {
      save([a!, u!]);
      return {
        value: runKernel<tf.Tensor>(FusedKernel.SwiGlu, { gate: a!, up: u! }),
        gradFunc: (dy, [as, us]) => runKernel<tf.Tensor[]>(FusedKernel.SwiGluGrad, { dy, gate: as!, up: us! }),
      };
    },
    gate,
    up,
  );
}

const rotations = new Map<number, Float32Array>();

/** The signed permutation R with x·R = rotate_half(x) for vectors of length d. */
function rotationMatrix(d: number): Float32Array {
  let r = rotations.get(d);
  if (!r) {
    const half = d / 2;
    r = new Float32Array(d * d);
    for (let i = 0; i < half; i++) {
      r[(i + half) * d + i] = -1; // out[i] = -x2[i]
      r[i * d + i + half] = 1; // out[i + half] = x1[i]
    }
    rotations.set(d, r);
  }
  return r;
}

/**
 * rotate_half: [x1, x2] -> [-x2, x1] over the last dimension, as one product with a signed
 * permutation (split + concat and their gradients are several times slower in tfjs).
 */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.shape.length - 1]!;
    const flat = tf.reshape(x, [-1, d]);
    return tf.reshape(tf.matMul(flat, tf.tensor2d(rotationMatrix(d), [d, d])), x.shape);
  });
}

/**
 * Rotary position embedding applied to x [..., T, headDim] (HF Llama/Mistral convention):
 * x·cos + rotate_half(x)·sin, cos/sin [T, headDim] (broadcast over leading dims) or
 * [B, 1, T, headDim] for x [B, H, T, headDim].
 */
export function rotary(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const plain = () => tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)));
  if (!enabled || x.dtype !== 'float32' || !tf.util.arraysEqual(cos.shape, sin.shape) || rowTable(x.shape, cos.shape) === null) return plain();
  // Measured on native TensorFlow: a hand-written gradient of this chain was no faster than tfjs' derived one.
  if (!hasKernel(FusedKernel.Rotary)) return plain();
  return withGradient(([xi], save) => {
    save([cos, sin]);
    return {
      value: runKernel<tf.Tensor>(FusedKernel.Rotary, { x: xi!, cos, sin }, { transpose: false }),
      // The transposed rotation: dx = dy·cos + Rᵀ(dy·sin).
      gradFunc: (dy, [c, s]) => runKernel<tf.Tensor>(FusedKernel.Rotary, { x: dy, cos: c!, sin: s! }, { transpose: true }),
    };
  }, x);
}

/**
 * softmax(scores · scale + mask) over the last dimension: attention probabilities. The mask
 * (additive, [T, S] or [B, 1, T, S] for scores [B, H, T, S]) is optional.
 */
export function scaledMaskedSoftmax(scores: tf.Tensor, scale: number, mask?: tf.Tensor): tf.Tensor {
  const plain = () =>
    tf.tidy(() => {
      const scaled = tf.mul(scores, scale);
      return tf.softmax(mask ? tf.add(scaled, mask) : scaled, -1);
    });
  if (!enabled || scores.dtype !== 'float32' || (mask && rowTable(scores.shape, mask.shape) === null)) return plain();
  return withGradient(([s], save) => {
    let probs: tf.Tensor;
    if (hasKernel(FusedKernel.ScaledMaskedSoftmax))
      probs = runKernel<tf.Tensor>(FusedKernel.ScaledMaskedSoftmax, mask ? { scores: s!, mask } : { scores: s! }, { scale });
    else {
      const scaled = tf.mul(s!, scale);
      probs = tf.softmax(mask ? tf.add(scaled, mask) : scaled, -1);
    }
    save([probs]);
    return {
      value: probs,
      gradFunc: (dy, [p]) => {
        if (hasKernel(FusedKernel.ScaledSoftmaxGrad)) return runKernel<tf.Tensor>(FusedKernel.ScaledSoftmaxGrad, { dy, probs: p! }, { scale });
        return tf.mul(tf.mul(p!, tf.sub(dy, tf.sum(tf.mul(dy, p!), -1, true))), scale);
      },
    };
  }, scores);
}

/**
 * −Σᵢ wᵢ · log softmax(logitsᵢ)[targetᵢ] for logits [N, V]: a weighted cross-entropy whose
 * weights carry the mean and the ignored positions (weight 0, neither scored nor differentiated).
 * targets and weights are plain arrays of length N, targets within [0, V).
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, targets: Int32Array, weights: Float32Array): tf.Scalar {
  const [n, v] = logits.shape;
  const plain = () =>
    tf.tidy(() => {
      const picked = tf.sum(tf.mul(tf.logSoftmax(logits, -1), tf.oneHot(tf.tensor1d(targets, 'int32'), v)), -1);
      return tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weights)))) as tf.Scalar;
    });
  if (!enabled || logits.dtype !== 'float32' || targets.length !== n || weights.length !== n) return plain();
  return withGradient(([l], save) => {
    const t = tf.tensor1d(targets, 'int32');
    const w = tf.tensor1d(weights);
    let loss: tf.Tensor;
    let lse: tf.Tensor;
    if (hasKernel(FusedKernel.SoftmaxCrossEntropy))
      [loss, lse] = runKernel<tf.Tensor[]>(FusedKernel.SoftmaxCrossEntropy, { logits: l!, targets: t, weights: w }) as [tf.Tensor, tf.Tensor];
    else {
      lse = tf.logSumExp(l!, 1);
      const picked = tf.sum(tf.mul(l!, tf.oneHot(t, v)), 1);
      loss = tf.neg(tf.sum(tf.mul(tf.sub(picked, lse), w)));
    }
    save([l!, t, w, lse]);
    return {
      value: loss,
      gradFunc: (dy, [ls, ts, ws, z]) => {
        if (hasKernel(FusedKernel.SoftmaxCrossEntropyGrad)) {
          return runKernel<tf.Tensor>(FusedKernel.SoftmaxCrossEntropyGrad, { dy, logits: ls!, targets: ts!, weights: ws!, lse: z! });
        }
        const probs = tf.exp(tf.sub(ls!, tf.expandDims(z!, 1)));
        return tf.mul(tf.sub(probs, tf.oneHot(ts!, v)), tf.expandDims(tf.mul(ws!, dy), 1));
      },
    };
  }, logits) as tf.Scalar;
}

/**
 * One AdamW update of a parameter (decoupled weight decay, torch.optim.AdamW): the new parameter
 * and moments, to be assigned by the optimizer. One kernel where the backend has it, else the
 * chain of standard ops (about fourteen kernels per parameter, most of an optimizer step's).
 */
export function adamWUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamWConstants,
): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  if (enabled && param.dtype === 'float32' && hasKernel(FusedKernel.AdamW)) {
    const [np, nm, nv] = runKernel<tf.Tensor[]>(FusedKernel.AdamW, { param, grad, m, v }, { ...c });
    return { param: np!, m: nm!, v: nv! };
  }
  return tf.tidy(() => {
    const decayed = c.weightDecay !== 0 ? tf.mul(param, 1 - c.lr * c.weightDecay) : param;
    const nm = tf.add(tf.mul(m, c.beta1), tf.mul(grad, 1 - c.beta1));
    const nv = tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(grad), 1 - c.beta2));
    const denom = tf.add(tf.div(tf.sqrt(nv), c.bc2Sqrt), c.eps);
    return { param: tf.sub(decayed, tf.mul(tf.div(nm, denom), c.stepSize)), m: nm, v: nv };
  });
}
