import * as tf from '@tensorflow/tfjs-core';
import { TrainingErrorCode, TrainingException } from './training.exception';

/**
 * torch.nn.utils.clip_grad_norm_: the global L2 norm over all gradients; if above maxNorm,
 * every gradient is scaled by maxNorm / (norm + 1e-6). Returns the norm before clipping and
 * the gradients: new tensors when scaled (the inputs are left for the caller to dispose), the
 * inputs themselves when nothing needed scaling (no copy of every gradient on most steps).
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { norm: number; grads: tf.Tensor[] } {
  if (!(maxNorm > 0)) {
    throw new TrainingException(TrainingErrorCode.InvalidOptions, `clipByGlobalNorm: maxNorm must be positive, got ${maxNorm}`, ['maxGradNorm']);
  }
  const norm = globalNorm(grads);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef >= 1) return { norm, grads };
  return { norm, grads: grads.map((g) => tf.mul(g, coef)) };
}

export function globalNorm(grads: tf.Tensor[]): number {
  return tf.tidy(() => {
    if (grads.length === 0) return 0;
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    return Math.sqrt(tf.addN(squares).dataSync()[0]);
  });
}
