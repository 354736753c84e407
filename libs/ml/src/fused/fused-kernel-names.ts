/**
 * Kernels for the transformer's hot elementwise chains, each one pass over its data where a
 * backend has them (fused-cpu-kernels.ts, fused-tensorflow-kernels.ts). fused-ops.ts runs a
 * kernel when the active backend registered it and the same chain of standard ops otherwise.
 */
export const FusedKernel = {
  /** x · rsqrt(mean(x², -1) + eps) · w; outputs [y, rstd [..., 1]]. */
  RmsNorm: 'TrellisRmsNorm',
  /** inputs dy, x, weight, rstd; outputs [dx, dWeight]. */
  RmsNormGrad: 'TrellisRmsNormGrad',
  /** silu(gate) · up. */
  SwiGlu: 'TrellisSwiGlu',
  /** inputs dy, gate, up; outputs [dGate, dUp]. */
  SwiGluGrad: 'TrellisSwiGluGrad',
  /** x·cos + rotate_half(x)·sin; attr `transpose` applies the transposed rotation (the gradient). */
  Rotary: 'TrellisRotary',
  /** softmax(scores · scale + mask, -1). */
  ScaledMaskedSoftmax: 'TrellisScaledMaskedSoftmax',
  /** inputs dy, probs; scale · p · (dy − Σ dy·p). */
  ScaledSoftmaxGrad: 'TrellisScaledSoftmaxGrad',
  /** −Σᵢ wᵢ · log softmax(logitsᵢ)[targetᵢ]; outputs [loss, per-row log-sum-exp]. */
  SoftmaxCrossEntropy: 'TrellisSoftmaxCrossEntropy',
  /** inputs dy, logits, targets, weights, lse; dy · wᵢ · (softmax(logitsᵢ) − onehot(targetᵢ)). */
  SoftmaxCrossEntropyGrad: 'TrellisSoftmaxCrossEntropyGrad',
  /** One AdamW update: inputs param, grad, m, v; outputs [param, m, v]. */
  AdamW: 'TrellisAdamW',
} as const;

export type FusedKernelName = (typeof FusedKernel)[keyof typeof FusedKernel];

/** One AdamW step's constants (torch.optim.AdamW): bias corrections folded into bc2Sqrt and stepSize = lr / (1 − β1ᵗ). */
export interface AdamWConstants {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** √(1 − β2ᵗ) */
  bc2Sqrt: number;
  stepSize: number;
}
