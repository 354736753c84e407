import * as tf from '@tensorflow/tfjs-core';
import { LayerErrorCode, LayerException } from './layer.exception';

/** Added to the scores of masked positions; large enough that exp() underflows to 0 in float32. */
export const MASKED_SCORE = -1e9;

/**
 * Whether query i (absolute position pastLength + i) may attend key j: causal (j <= position)
 * and, with a sliding window w, also j > position - w — the rule of HF Mistral's sliding
 * window causal mask (each token sees itself and the w-1 tokens before it).
 */
export function attends(queryPosition: number, keyPosition: number, slidingWindow: number | null): boolean {
  if (keyPosition > queryPosition) return false;
  return slidingWindow === null || keyPosition > queryPosition - slidingWindow;
}

/**
 * Additive mask [queryLength, pastLength + queryLength]: 0 where attention is allowed,
 * MASKED_SCORE elsewhere.
 */
export function causalMask(queryLength: number, pastLength = 0, slidingWindow: number | null = null): tf.Tensor2D {
  if (slidingWindow !== null && (!Number.isInteger(slidingWindow) || slidingWindow <= 0)) {
    const message = `causalMask: slidingWindow must be a positive integer or null, got ${slidingWindow}`;
    throw new LayerException(LayerErrorCode.InvalidConfig, message, ['slidingWindow']);
  }
  const keyLength = pastLength + queryLength;
  const values = new Float32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) {
      values[i * keyLength + j] = attends(pastLength + i, j, slidingWindow) ? 0 : MASKED_SCORE;
    }
  }
  return tf.tensor2d(values, [queryLength, keyLength]);
}
