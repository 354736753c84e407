import * as tf from '@tensorflow/tfjs-core';
import { LayerErrorCode, LayerException } from './layer.exception';

/**
 * The multiplier of inverted dropout for `size` elements: 0 with probability `rate`, else
 * 1 / (1 - rate), drawn from a mulberry32 stream seeded by `seed`, so a given seed gives the
 * same mask on every backend and machine.
 *
 * Why not tf.dropout: tfjs draws its uniforms in JavaScript through a slow generator and then
 * runs four kernels to turn them into a mask; LoRA dropout draws one value per input element
 * of every adapted layer, which took about a fifth of a LoRA step at the benchmark's small size.
 */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new LayerException(LayerErrorCode.InvalidConfig, `dropout rate must be in [0, 1), got ${rate}`, ['rate']);
  const mask = new Float32Array(size);
  const scale = Math.fround(1 / Math.fround(1 - rate));
  // Keep when the 32-bit draw is at or above rate · 2^32.
  const threshold = Math.floor(rate * 4294967296);
  let state = seed | 0;
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    mask[i] = (t ^ (t >>> 14)) >>> 0 >= threshold ? scale : 0;
  }
  return mask;
}

/** Inverted dropout of x with a mask from dropoutMask(x.size, rate, seed); gradients flow through x only. */
export function seededDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate === 0) return x.clone();
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32')));
}
