import * as tf from '@tensorflow/tfjs-core';
import { LayerErrorCode, LayerException } from './layer.exception';

/**
 * Activations used by the three parts of a LLaVA-style model, each matching its PyTorch /
 * Hugging Face definition:
 * - SiLU (x·σ(x)) in the Mistral/Llama SwiGLU MLP (hidden_act "silu");
 * - GELU exact, 0.5·x·(1 + erf(x/√2)), in the LLaVA-1.5 projector (projector_hidden_act
 *   "gelu", torch.nn.GELU() default);
 * - quick_gelu, x·σ(1.702·x), in the CLIP ViT-L/14 vision tower (hidden_act "quick_gelu"),
 *   which is what our ViT uses by default;
 * - GELU tanh approximation ("gelu_pytorch_tanh"), offered for configs that ask for it.
 */
export type ActivationName = 'silu' | 'gelu' | 'gelu_tanh' | 'quick_gelu';
export const ACTIVATION_NAMES: readonly ActivationName[] = ['silu', 'gelu', 'gelu_tanh', 'quick_gelu'];

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

export function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

export function geluTanh(x: tf.Tensor): tf.Tensor {
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  });
}

export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

export function activation(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'silu':
      return silu(x);
    case 'gelu':
      return geluExact(x);
    case 'gelu_tanh':
      return geluTanh(x);
    case 'quick_gelu':
      return quickGelu(x);
    default: {
      const unknown: never = name;
      throw new LayerException(LayerErrorCode.InvalidConfig, `unknown activation '${String(unknown)}'; valid: ${ACTIVATION_NAMES.join(', ')}`, ['hiddenAct']);
    }
  }
}
