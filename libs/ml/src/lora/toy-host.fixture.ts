import * as tf from '@tensorflow/tfjs-core';
import { Linear, LinearHost, LinearLike } from '../layers/linear';
import { ModelErrorCode, ModelException } from '../model/model.exception';

/**
 * A two-block MLP with Hugging Face style module names, standing in for a model in the unit
 * tests of quant/, lora/ and train/: y = down(gelu(up(x))) + x, then lm_head.
 */
export class ToyHost implements LinearHost {
  private readonly layers = new Map<string, LinearLike>();

  constructor(
    readonly dim = 8,
    readonly hidden = 16,
    readonly outDim = 5,
    seed = 1,
  ) {
    this.layers.set('model.layers.0.mlp.up_proj', new Linear('model.layers.0.mlp.up_proj', dim, hidden, { seed }));
    this.layers.set('model.layers.0.mlp.down_proj', new Linear('model.layers.0.mlp.down_proj', hidden, dim, { seed: seed + 1 }));
    this.layers.set('lm_head', new Linear('lm_head', dim, outDim, { seed: seed + 2, bias: false }));
  }

  linearLayers(): Map<string, LinearLike> {
    return new Map(this.layers);
  }

  setLinear(name: string, layer: LinearLike): void {
    // As a real model's LinearRegistry reports it, so code under test sees the same error.
    if (!this.layers.has(name)) throw new ModelException(ModelErrorCode.UnknownLayer, `ToyHost: no layer ${name}`, [name]);
    this.layers.set(name, layer);
  }

  layer(name: string): LinearLike {
    return this.layers.get(name)!;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.relu(this.layer('model.layers.0.mlp.up_proj').apply(x));
      const r = tf.add(x, this.layer('model.layers.0.mlp.down_proj').apply(h));
      return this.layer('lm_head').apply(r);
    });
  }

  /** Mean squared error to a target, the loss the toy tests train on. */
  loss(x: tf.Tensor, target: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.mean(tf.square(tf.sub(this.forward(x), target))) as tf.Scalar);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.trainableVariables());
  }

  setTrainable(flag: boolean): void {
    for (const l of this.layers.values()) if (l instanceof Linear) l.trainable = flag;
  }

  dispose(): void {
    for (const l of this.layers.values()) l.dispose();
  }
}
