import * as tf from '@tensorflow/tfjs-core';
import { swiGlu } from '../fused/fused-ops';
import { activation, type ActivationName } from './activations';
import type { LinearLike } from './linear';

/** Mistral/Llama MLP: down(silu(gate(x)) · up(x)). */
export function swiGluMlp(x: tf.Tensor, layers: { gate: LinearLike; up: LinearLike; down: LinearLike }): tf.Tensor {
  return tf.tidy(() => layers.down.apply(swiGlu(layers.gate.apply(x), layers.up.apply(x))));
}

/** Two linears with an activation between: CLIP MLP (fc1, quick_gelu, fc2) and the LLaVA projector (linear_1, gelu, linear_2). */
export function twoLayerMlp(x: tf.Tensor, first: LinearLike, act: ActivationName, second: LinearLike): tf.Tensor {
  return tf.tidy(() => second.apply(activation(act, first.apply(x))));
}
