import * as tf from '@tensorflow/tfjs-core';
import { LayerErrorCode, LayerException } from './layer.exception';
// tfjs-core's CommonJS bundle has no gradients; the backend module registers them.
import '../backend/tfjs-registrations';

/**
 * y = x·Wᵀ (+ b) over the last axis of x [..., in], with W stored [out, in] as PyTorch stores
 * it. The one dense product of the library (Linear, QuantizedLinear, the tied lm_head, LoRA's
 * A and B, the patch embedding): the leading axes are folded into one, since tfjs' matMul only
 * broadcasts batch axes of equal rank, and a single [N, in] x [in, out] product is what the
 * BLAS kernel runs in one sgemm call. `layer` names the caller in the error.
 */
export function denseForward(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null = null, layer = 'dense'): tf.Tensor {
  if (weight.rank !== 2) {
    throw new LayerException(LayerErrorCode.InvalidInput, `${layer}: weight must be [out, in], got shape [${weight.shape.join(', ')}]`, ['weight']);
  }
  const [outFeatures, inFeatures] = weight.shape;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new LayerException(LayerErrorCode.InvalidInput, `${layer}: bias must be [${outFeatures}], got shape [${bias.shape.join(', ')}]`, ['bias']);
  }
  const last = x.shape[x.rank - 1];
  if (last !== inFeatures) {
    const message = `${layer}: input last dimension is ${last} (shape [${x.shape.join(', ')}]), expected ${inFeatures}`;
    throw new LayerException(LayerErrorCode.InvalidInput, message, ['x']);
  }
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(tf.reshape(x, [-1, inFeatures]), weight, false, true);
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [...lead, outFeatures]);
  });
}
