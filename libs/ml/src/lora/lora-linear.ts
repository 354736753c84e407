import * as tf from '@tensorflow/tfjs-core';
import { denseForward } from '../layers/dense';
import { seededDropout } from '../layers/dropout';
import { Linear, LinearLike } from '../layers/linear';
import { SeededRandom } from '../layers/seeded-random';
import { LoraErrorCode, LoraException } from './lora.exception';

export interface LoraLayerOptions {
  r: number;
  alpha: number;
  /** Dropout on the adapter input, applied only in training mode (PEFT lora_dropout). */
  dropout?: number;
  /** rsLoRA: scale by alpha/√r instead of alpha/r (Kalajdzievski 2023; PEFT use_rslora). */
  useRslora?: boolean;
  /** Seeds A's initialisation and the dropout masks. */
  seed?: number;
}

export function loraScaling(r: number, alpha: number, useRslora = false): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * LoRA around any linear layer (a float Linear, or a QuantizedLinear for QLoRA), as PEFT's
 * lora.Linear: y = base(x) + scaling · B(A(dropout(x))), A [r, in], B [out, r].
 * A starts like PEFT (`nn.init.kaiming_uniform_(A, a=√5)`, i.e. U(±1/√in)) and B at zero, so a
 * fresh adapter leaves the base output unchanged; only A and B train.
 */
export class LoraLinear implements LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly useRslora: boolean;
  readonly scaling: number;
  readonly loraA: tf.Variable;
  readonly loraB: tf.Variable;
  /** Dropout is active only while training. */
  training = false;
  private mergedFlag = false;
  private readonly dropoutSeed: number;
  /** Dropout masks drawn so far; part of a checkpoint's RNG state so a resume draws the same masks. */
  dropoutCalls = 0;

  constructor(
    readonly base: LinearLike,
    options: LoraLayerOptions,
  ) {
    const { r, alpha } = options;
    const dropout = options.dropout ?? 0;
    const invalid = (message: string, field: string) => new LoraException(LoraErrorCode.InvalidConfig, `LoRA: ${message}`, [field]);
    if (!Number.isInteger(r) || r <= 0) throw invalid(`r must be a positive integer, got ${r}`, 'r');
    if (!Number.isFinite(alpha) || alpha <= 0) throw invalid(`alpha must be a positive number, got ${alpha}`, 'alpha');
    if (!(dropout >= 0 && dropout < 1)) throw invalid(`dropout must be in [0, 1), got ${dropout}`, 'dropout');
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.r = r;
    this.alpha = alpha;
    this.dropout = dropout;
    this.useRslora = options.useRslora ?? false;
    this.scaling = loraScaling(r, alpha, this.useRslora);
    const rng = new SeededRandom(options.seed ?? 0);
    // kaiming_uniform_(a=√5): gain = √(2/(1+a²)) = √(1/3), bound = gain·√(3/fan_in) = 1/√fan_in.
    const bound = 1 / Math.sqrt(this.inFeatures);
    this.loraA = tf.tidy(() => tf.variable(tf.tensor2d(rng.fillUniform(r * this.inFeatures, -bound, bound), [r, this.inFeatures]), true));
    this.loraB = tf.tidy(() => tf.variable(tf.zeros([this.outFeatures, r]), true));
    this.dropoutSeed = rng.fork();
  }

  get merged(): boolean {
    return this.mergedFlag;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.apply(x);
      if (this.mergedFlag) return y;
      const lead = x.shape.slice(0, -1);
      let h = x.reshape([-1, this.inFeatures]);
      if (this.training && this.dropout > 0) {
        // A fresh, reproducible mask per call: the seed advances with the call count.
        h = seededDropout(h, this.dropout, this.dropoutSeed + this.dropoutCalls++);
      }
      const delta = denseForward(denseForward(h, this.loraA, null, 'LoRA lora_A'), this.loraB, null, 'LoRA lora_B');
      return tf.add(y, tf.mul(delta, this.scaling).reshape([...lead, this.outFeatures]));
    });
  }

  trainableVariables(): tf.Variable[] {
    return [this.loraA, this.loraB];
  }

  /** scaling · B·A, [out, in]: what merging adds to the base weight. */
  delta(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.loraB, this.loraA), this.scaling) as tf.Tensor2D);
  }

  /** W += scaling · B·A on a float Linear base; apply then skips the adapter path. */
  merge(): void {
    const w = this.floatBase('merge').weight;
    if (this.mergedFlag) throw new LoraException(LoraErrorCode.InvalidMergeState, 'LoRA: adapter is already merged');
    tf.tidy(() => w.assign(tf.add(w, this.delta())));
    this.mergedFlag = true;
  }

  /** W -= scaling · B·A: restores the base weight (up to float32 rounding). */
  unmerge(): void {
    const w = this.floatBase('unmerge').weight;
    if (!this.mergedFlag) throw new LoraException(LoraErrorCode.InvalidMergeState, 'LoRA: adapter is not merged');
    tf.tidy(() => w.assign(tf.sub(w, this.delta())));
    this.mergedFlag = false;
  }

  private floatBase(op: string): Linear {
    if (!(this.base instanceof Linear)) {
      throw new LoraException(LoraErrorCode.UnsupportedBase, `LoRA: ${op} needs a float Linear base, this adapter wraps a ${this.base.constructor.name}`);
    }
    return this.base;
  }

  /** Disposes the adapter and the wrapped layer (the model owns layers through its layer map). */
  dispose(): void {
    this.loraA.dispose();
    this.loraB.dispose();
    this.base.dispose();
  }
}
