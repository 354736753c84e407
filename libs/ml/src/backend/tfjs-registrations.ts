// tfjs-core's CommonJS bundle (its package "main", what Node and jest load) registers neither
// the gradient functions (tf.grad fails with "gradient function not found for Sum") nor the
// chained ops (x.reshape is not a function); only its ES-module files do, which CommonJS
// cannot load. The @tensorflow/tfjs union bundle carries both and registers them into the
// same global registries on require, so importing this module once is enough.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

/** Sums a gradient over the batch dimensions its input was broadcast along. */
function reduceToShape(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(x.shape, shape)) return x;
  const axes = tf.broadcast_util.getReductionAxes(shape, x.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(x, axes) : x, shape);
}

// tfjs' BatchMatMul gradient ignores batch broadcasting: for [B, M, K] x [K, N] it returns a
// [B, K, N] gradient for the [K, N] input and backprop fails on the shape check. This one is
// the same products, summed over the broadcast batch dimensions.
tf.unregisterGradient(tf.BatchMatMul);
tf.registerGradient({
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const g = dy as tf.Tensor;
    let da: () => tf.Tensor;
    let db: () => tf.Tensor;
    if (!transposeA && !transposeB) {
      da = () => tf.matMul(g, b, false, true);
      db = () => tf.matMul(a, g, true, false);
    } else if (!transposeA && transposeB) {
      da = () => tf.matMul(g, b, false, false);
      db = () => tf.matMul(g, a, true, false);
    } else if (transposeA && !transposeB) {
      da = () => tf.matMul(b, g, false, true);
      db = () => tf.matMul(a, g, false, false);
    } else {
      da = () => tf.matMul(b, g, true, true);
      db = () => tf.matMul(g, a, true, true);
    }
    return { a: () => reduceToShape(da(), a.shape), b: () => reduceToShape(db(), b.shape) };
  },
});
