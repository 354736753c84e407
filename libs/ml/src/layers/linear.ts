import * as tf from '@tensorflow/tfjs-core';
import { denseForward } from './dense';
import { LayerErrorCode, LayerException } from './layer.exception';
import { SeededRandom } from './seeded-random';

/**
 * What LoRA / QLoRA wrappers and plain linears have in common, so a model can call any of
 * them through its layer map.
 */
export interface LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [..., in] -> [..., out] */
  apply(x: tf.Tensor): tf.Tensor;
  trainableVariables(): tf.Variable[];
  dispose(): void;
}

/**
 * A model whose linear layers can be looked up and replaced by Hugging Face module name,
 * e.g. `language_model.model.layers.0.self_attn.q_proj`. The model must call each layer
 * through this map so a replacement takes effect.
 */
export interface LinearHost {
  linearLayers(): Map<string, LinearLike>;
  setLinear(name: string, layer: LinearLike): void;
}

export interface LinearOptions {
  bias?: boolean;
  /** Initial weight [out, in]; copied, the caller keeps ownership. */
  init?: tf.Tensor2D;
  trainable?: boolean;
  seed?: number;
}

/**
 * y = x·Wᵀ + b with W stored [out, in], as PyTorch / Hugging Face store it, so checkpoints
 * load without transposing. Initialised like torch.nn.Linear: kaiming_uniform(a=√5), which
 * reduces to U(-1/√in, 1/√in) for the weight and the same bound for the bias.
 */
export class Linear implements LinearLike {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  private trainableFlag: boolean;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    for (const [label, n] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) {
        throw new LayerException(LayerErrorCode.InvalidConfig, `Linear ${name}: ${label} must be a positive integer, got ${n}`, [label]);
      }
    }
    this.trainableFlag = options.trainable ?? true;
    const rng = new SeededRandom(options.seed ?? 0);
    const bound = 1 / Math.sqrt(inFeatures);
    let w: tf.Tensor2D;
    if (options.init) {
      const shape = options.init.shape;
      if (shape[0] !== outFeatures || shape[1] !== inFeatures) {
        throw new LayerException(
          LayerErrorCode.InvalidConfig,
          `Linear ${name}: init weight has shape [${shape.join(', ')}], expected [out=${outFeatures}, in=${inFeatures}]`,
          ['init'],
        );
      }
      w = tf.cast(options.init, 'float32') as tf.Tensor2D;
    } else {
      w = tf.tensor2d(rng.fillUniform(outFeatures * inFeatures, -bound, bound), [outFeatures, inFeatures]);
    }
    // Variables are unnamed: tfjs names are global, and several models may share HF names.
    this.weight = tf.variable(w, this.trainableFlag);
    w.dispose();
    if (options.bias ?? true) {
      const b = tf.tensor1d(rng.fillUniform(outFeatures, -bound, bound));
      this.bias = tf.variable(b, this.trainableFlag);
      b.dispose();
    } else {
      this.bias = null;
    }
  }

  get trainable(): boolean {
    return this.trainableFlag;
  }

  set trainable(flag: boolean) {
    this.trainableFlag = flag;
    this.weight.trainable = flag;
    if (this.bias) this.bias.trainable = flag;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return denseForward(x, this.weight, this.bias, `Linear ${this.name}`);
  }

  trainableVariables(): tf.Variable[] {
    if (!this.trainableFlag) return [];
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}
