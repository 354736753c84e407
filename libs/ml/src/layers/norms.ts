import * as tf from '@tensorflow/tfjs-core';
import { rmsNorm } from '../fused/fused-ops';
import { LayerErrorCode, LayerException } from './layer.exception';

function checkLastDim(kind: string, name: string, x: tf.Tensor, size: number): void {
  const last = x.shape[x.shape.length - 1];
  if (last !== size) {
    throw new LayerException(
      LayerErrorCode.InvalidInput,
      `${kind} ${name}: input last dimension is ${last} (shape [${x.shape.join(', ')}]), expected ${size}`,
      ['x'],
    );
  }
}

/**
 * Root-mean-square norm as in Hugging Face MistralRMSNorm / LlamaRMSNorm:
 * x · rsqrt(mean(x², -1) + eps) · w, computed in float32 (HF upcasts to float32 too).
 * Weight starts at ones.
 */
export class RmsNorm {
  readonly weight: tf.Variable;

  constructor(
    readonly name: string,
    readonly size: number,
    readonly eps: number,
  ) {
    if (!(eps > 0)) throw new LayerException(LayerErrorCode.InvalidConfig, `RmsNorm ${name}: eps must be > 0, got ${eps}`, ['eps']);
    const ones = tf.ones([size]);
    this.weight = tf.variable(ones, true);
    ones.dispose();
  }

  apply(x: tf.Tensor): tf.Tensor {
    checkLastDim('RmsNorm', this.name, x, this.size);
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** LayerNorm over the last dimension (torch.nn.LayerNorm): (x - μ)/√(σ² + eps)·w + b, biased σ². */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly name: string,
    readonly size: number,
    readonly eps: number,
  ) {
    if (!(eps > 0)) throw new LayerException(LayerErrorCode.InvalidConfig, `LayerNorm ${name}: eps must be > 0, got ${eps}`, ['eps']);
    const ones = tf.ones([size]);
    const zeros = tf.zeros([size]);
    this.weight = tf.variable(ones, true);
    this.bias = tf.variable(zeros, true);
    ones.dispose();
    zeros.dispose();
  }

  apply(x: tf.Tensor): tf.Tensor {
    checkLastDim('LayerNorm', this.name, x, this.size);
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true);
      return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps))), this.weight), this.bias);
    });
  }
}
