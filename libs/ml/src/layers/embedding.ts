import * as tf from '@tensorflow/tfjs-core';

/**
 * Rows of table [V, H] for integer ids [...], giving [..., H]. The forward is tf.gather; the
 * gradient is oneHot(ids)ᵀ·dy, one matrix product, because tfjs' own Gather gradient goes
 * through UnsortedSegmentSum, which on the CPU backend costs O(V × tokens) element copies
 * (two thirds of a tiny model's training step).
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [vocab, hidden] = table.shape as [number, number];
  return tf.tidy(() => {
    const intIds = tf.cast(ids, 'int32');
    const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const t = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      // Saved, not captured: the engine keeps saved tensors alive until back-propagation.
      save([intIds]);
      return {
        value: tf.gather(t, intIds),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const flatIds = tf.reshape(saved[0]!, [-1]);
          const flatDy = tf.reshape(dy, [-1, hidden]);
          return tf.matMul(tf.oneHot(flatIds, vocab, 1, 0, 'float32'), flatDy, true, false);
        },
      };
    });
    return lookup(table) as tf.Tensor;
  });
}
