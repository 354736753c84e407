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
function checkSlidingWindow(slidingWindow: number | null): void {
  if (slidingWindow !== null && (!Number.isInteger(slidingWindow) || slidingWindow <= 0)) {
    const message = `causalMask: slidingWindow must be a positive integer or null, got ${slidingWindow}`;
    throw new LayerException(LayerErrorCode.InvalidConfig, message, ['slidingWindow']);
  }
}

export function causalMask(queryLength: number, pastLength = 0, slidingWindow: number | null = null): tf.Tensor2D {
  checkSlidingWindow(slidingWindow);
  const keyLength = pastLength + queryLength;
  const values = new Float32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) {
      values[i * keyLength + j] = attends(pastLength + i, j, slidingWindow) ? 0 : MASKED_SCORE;
    }
  }
  return tf.tensor2d(values, [queryLength, keyLength]);
}

/**
 * Additive mask [B, 1, T, K] for a batch with padding, as transformers combines its causal mask
 * with attention_mask: query i of row b (absolute index K - T + i) may attend key j when the
 * causal (and sliding-window) rule on the indices allows it and attentionMask[b][j] is 1.
 * Rows are the attention mask over all K keys (cached ones first), 1 = token, 0 = padding.
 */
export function paddedCausalMask(attentionMask: readonly (readonly number[])[], queryLength: number, slidingWindow: number | null = null): tf.Tensor4D {
  const batch = attentionMask.length;
  const keyLength = attentionMask[0]?.length ?? 0;
  const past = keyLength - queryLength;
  if (batch === 0 || past < 0 || attentionMask.some((row) => row.length !== keyLength)) {
    const message = `paddedCausalMask: the attention mask must be [B, pastLength + ${queryLength}] with B > 0, got ${batch} rows of ${attentionMask.map((r) => r.length).join(', ')}`;
    throw new LayerException(LayerErrorCode.InvalidInput, message, ['attentionMask']);
  }
  checkSlidingWindow(slidingWindow);
  const values = new Float32Array(batch * queryLength * keyLength);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) {
        values[(b * queryLength + i) * keyLength + j] = attentionMask[b][j] === 1 && attends(past + i, j, slidingWindow) ? 0 : MASKED_SCORE;
      }
    }
  }
  return tf.tensor4d(values, [batch, 1, queryLength, keyLength]);
}

/**
 * Position ids for a padded batch as transformers' generate() derives them from the attention
 * mask: cumsum(mask) - 1, padding set to 1; the last queryLength columns.
 */
export function positionsFromMask(attentionMask: readonly (readonly number[])[], queryLength: number): number[][] {
  return attentionMask.map((row) => {
    let seen = 0;
    const all = row.map((m) => (m === 1 ? seen++ : 1));
    return all.slice(all.length - queryLength);
  });
}
