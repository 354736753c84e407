import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../fused/fused-ops';
import { ModelErrorCode, ModelException } from './model.exception';

/** Label value whose position does not count (PyTorch CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/**
 * Causal LM cross-entropy as in HF *ForCausalLM: the logits at position t predict label
 * t+1 (shift by one), averaged over the positions whose label is not -100.
 * logits [B, T, V], labels int32 [B, T]. A batch with no counted label is an error (HF
 * would return NaN).
 */
export function causalLmLoss(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (logits.rank !== 3 || labels.rank !== 2 || logits.shape[0] !== labels.shape[0] || logits.shape[1] !== labels.shape[1]) {
    throw new ModelException(
      ModelErrorCode.InvalidInput,
      `causalLmLoss: expected logits [B, T, V] and labels [B, T], got [${logits.shape.join(', ')}] and [${labels.shape.join(', ')}]`,
      ['logits', 'labels'],
    );
  }
  const [b, t, v] = logits.shape;
  if (t < 2) throw new ModelException(ModelErrorCode.InvalidInput, `causalLmLoss: need at least 2 positions to shift, got ${t}`, ['logits']);
  const labelValues = labels.dataSync();
  let counted = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 1; j < t; j++) {
      const l = labelValues[i * t + j];
      if (l === IGNORE_INDEX) continue;
      if (!Number.isInteger(l) || l < 0 || l >= v) {
        const message = `causalLmLoss: label ${l} at [${i}, ${j}] is outside [0, ${v}) and not ${IGNORE_INDEX}`;
        throw new ModelException(ModelErrorCode.InvalidInput, message, ['labels']);
      }
      counted++;
    }
  }
  if (counted === 0) throw new ModelException(ModelErrorCode.InvalidInput, `causalLmLoss: every label is ${IGNORE_INDEX}; nothing to learn from`, ['labels']);
  // Shift in plain arrays: position t is scored against label t+1, the last position against
  // nothing. Slicing the logits instead costs more than the rest of the loss on the CPU backend.
  const targets = new Int32Array(b * t);
  const weights = new Float32Array(b * t);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < t - 1; j++) {
      const l = labelValues[i * t + j + 1]!;
      if (l === IGNORE_INDEX) continue;
      targets[i * t + j] = l;
      weights[i * t + j] = 1 / counted;
    }
  }
  return tf.tidy(() => softmaxCrossEntropy(tf.reshape(logits, [b * t, v]), targets, weights));
}
