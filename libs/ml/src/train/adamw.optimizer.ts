import * as tf from '@tensorflow/tfjs-core';
import { adamWUpdate } from '../fused/fused-ops';
import { TrainingErrorCode, TrainingException } from './training.exception';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * AdamW with decoupled weight decay, the update of torch.optim.AdamW (amsgrad off, the
 * single-tensor path):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * The learning rate is passed per step so a schedule can drive it. Moments are created
 * lazily per variable and can be exported and restored for checkpoints.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly lr: number;
  /** Number of updates applied (torch's state["step"]). */
  step = 0;
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();

  constructor(options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    for (const [k, v, ok] of [
      ['lr', this.lr, this.lr >= 0],
      ['beta1', this.beta1, this.beta1 >= 0 && this.beta1 < 1],
      ['beta2', this.beta2, this.beta2 >= 0 && this.beta2 < 1],
      ['eps', this.eps, this.eps >= 0],
      ['weightDecay', this.weightDecay, this.weightDecay >= 0],
    ] as const) {
      if (!ok || !Number.isFinite(v)) {
        throw new TrainingException(
          TrainingErrorCode.InvalidOptions,
          `AdamW: invalid ${k} ${v}; lr, eps and weightDecay must be finite and >= 0, beta1 and beta2 in [0, 1)`,
          [`optimizer.${k}`],
        );
      }
    }
  }

  private state(p: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let s = this.moments.get(p);
    if (!s) {
      s = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) }));
      this.moments.set(p, s);
    }
    return s;
  }

  /** One update of every variable with its gradient, at learning rate lr (default: the constructor's). */
  apply(params: tf.Variable[], grads: tf.Tensor[], lr = this.lr): void {
    if (params.length !== grads.length) {
      throw new TrainingException(TrainingErrorCode.InvalidInput, `AdamW: ${params.length} variables but ${grads.length} gradients`, ['grads']);
    }
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const stepSize = lr / bc1;
    const constants = { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, bc2Sqrt, stepSize };
    params.forEach((p, i) => {
      const g = grads[i];
      if (g.shape.join(',') !== p.shape.join(',')) {
        const message = `AdamW: gradient [${g.shape.join(', ')}] for a variable [${p.shape.join(', ')}]`;
        throw new TrainingException(TrainingErrorCode.InvalidInput, message, ['grads']);
      }
      const s = this.state(p);
      tf.tidy(() => {
        const next = adamWUpdate(p, g, s.m, s.v, constants);
        s.m.assign(next.m);
        s.v.assign(next.v);
        p.assign(next.param);
      });
    });
  }

  /** First and second moments of a variable (null before its first update). */
  moment(p: tf.Variable): { m: tf.Variable; v: tf.Variable } | null {
    return this.moments.get(p) ?? null;
  }

  /** Restores the moments of a variable (checkpoint resume). */
  setMoment(p: tf.Variable, m: Float32Array, v: Float32Array): void {
    if (m.length !== p.size || v.length !== p.size) {
      throw new TrainingException(TrainingErrorCode.InvalidInput, `AdamW: moments of ${m.length}/${v.length} values for a variable of ${p.size}`, ['m', 'v']);
    }
    const s = this.state(p);
    tf.tidy(() => {
      s.m.assign(tf.tensor(m, p.shape));
      s.v.assign(tf.tensor(v, p.shape));
    });
  }

  dispose(): void {
    for (const s of this.moments.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.moments.clear();
  }
}
