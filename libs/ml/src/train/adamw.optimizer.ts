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
 * Parameters updated together: their gradients and moments laid end to end in one flat vector,
 * so the update is one pass of a few kernels for the whole bucket rather than per parameter
 * (what torch's foreach path does). A parameter of BUCKET_ELEMENTS or more is a bucket of its own
 * and keeps its shape (no copy into or out of a flat vector).
 */
interface Bucket {
  params: tf.Variable[];
  m: tf.Variable;
  v: tf.Variable;
}

/** LoRA adapters and norms (thousands to a few hundred thousand values each) share buckets; large weights go alone. */
const BUCKET_ELEMENTS = 1 << 20;

/** Gradients laid out as the optimizer's buckets, flattened once and shared by the norm, clipping and the update. */
export interface PreparedGradients {
  readonly params: tf.Variable[];
  /** One tensor per bucket, in bucket order. */
  readonly grads: tf.Tensor[];
}

function flatten(tensors: tf.Tensor[]): tf.Tensor {
  return tensors.length === 1 ? tensors[0]!.clone() : tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
}

/**
 * AdamW with decoupled weight decay, the update of torch.optim.AdamW (amsgrad off):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * The learning rate is passed per step so a schedule can drive it. Parameters are updated in
 * buckets (see Bucket): elementwise, so the values are those of a per-parameter update. Moments
 * are created lazily and can be exported and restored per parameter for checkpoints.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly lr: number;
  /** Number of updates applied (torch's state["step"]). */
  step = 0;
  private buckets: Bucket[] = [];
  /** Moments of parameters outside the current buckets (restored from a checkpoint, or not updated lately). */
  private readonly parked = new Map<tf.Variable, { m: tf.Tensor; v: tf.Tensor }>();

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

  /** One update of every variable with its gradient, at learning rate lr (default: the constructor's). */
  apply(params: tf.Variable[], grads: tf.Tensor[], lr = this.lr): void {
    const prepared = this.prepare(params, grads);
    try {
      this.applyPrepared(prepared, lr);
    } finally {
      tf.dispose(prepared.grads);
    }
  }

  /**
   * Checks each gradient against its variable and lays the gradients out as the buckets of these
   * parameters (the caller disposes the result's grads; the inputs are left as they are).
   */
  prepare(params: tf.Variable[], grads: tf.Tensor[]): PreparedGradients {
    if (params.length !== grads.length) {
      throw new TrainingException(TrainingErrorCode.InvalidInput, `AdamW: ${params.length} variables but ${grads.length} gradients`, ['grads']);
    }
    params.forEach((p, i) => {
      const g = grads[i]!;
      if (g.shape.join(',') !== p.shape.join(',')) {
        const message = `AdamW: gradient [${g.shape.join(', ')}] for a variable [${p.shape.join(', ')}]`;
        throw new TrainingException(TrainingErrorCode.InvalidInput, message, ['grads']);
      }
    });
    this.layOut(params);
    const index = new Map(params.map((p, i) => [p, i]));
    return { params, grads: this.buckets.map((b) => tf.tidy(() => flatten(b.params.map((p) => grads[index.get(p)!]!)))) };
  }

  /** The L2 norm over all prepared gradients (torch.nn.utils.clip_grad_norm_'s total norm). */
  gradNorm(prepared: PreparedGradients): number {
    return tf.tidy(() => {
      if (prepared.grads.length === 0) return 0;
      return Math.sqrt(tf.addN(prepared.grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
    });
  }

  /** The update with prepared gradients, each multiplied by `scale` first (gradient clipping) when it is not 1. */
  applyPrepared(prepared: PreparedGradients, lr = this.lr, scale = 1): void {
    this.layOut(prepared.params);
    this.step += 1;
    const t = this.step;
    const constants = {
      lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      bc2Sqrt: Math.sqrt(1 - this.beta2 ** t),
      stepSize: lr / (1 - this.beta1 ** t),
    };
    this.buckets.forEach((b, i) =>
      tf.tidy(() => {
        const g = scale === 1 ? prepared.grads[i]! : tf.mul(prepared.grads[i]!, scale);
        const next = adamWUpdate(flatten(b.params), g, b.m, b.v, constants);
        b.m.assign(next.m);
        b.v.assign(next.v);
        if (b.params.length === 1) return b.params[0]!.assign(next.param);
        const parts = tf.split(
          next.param,
          b.params.map((p) => p.size),
        );
        b.params.forEach((p, j) => p.assign(tf.reshape(parts[j]!, p.shape)));
      }),
    );
  }

  /**
   * Buckets for exactly these parameters, in this order: kept while the same list comes back
   * (every step of a run), rebuilt otherwise, each parameter's moments carried over.
   */
  private layOut(params: tf.Variable[]): void {
    const current = this.buckets.flatMap((b) => b.params);
    if (current.length === params.length && current.every((p, i) => p === params[i])) return;
    // Park every moment, then build the new buckets from the parked ones (zeros for a new parameter).
    for (const b of this.buckets) {
      b.params.forEach((p, j) => this.parked.set(p, this.sliceOf(b, j)));
      b.m.dispose();
      b.v.dispose();
    }
    const groups: tf.Variable[][] = [];
    let open: tf.Variable[] = [];
    let size = 0;
    for (const p of params) {
      if (p.size >= BUCKET_ELEMENTS) {
        groups.push([p]);
        continue;
      }
      if (size + p.size > BUCKET_ELEMENTS && open.length > 0) {
        groups.push(open);
        open = [];
        size = 0;
      }
      open.push(p);
      size += p.size;
    }
    if (open.length > 0) groups.push(open);
    this.buckets = groups.map((group) =>
      tf.tidy(() => {
        const moment = (key: 'm' | 'v') => flatten(group.map((p) => this.parked.get(p)?.[key] ?? tf.zeros(p.shape)));
        const bucket = { params: group, m: tf.variable(moment('m'), false), v: tf.variable(moment('v'), false) };
        return bucket;
      }),
    );
    for (const p of params) {
      const parked = this.parked.get(p);
      if (parked) tf.dispose([parked.m, parked.v]);
      this.parked.delete(p);
    }
  }

  /** A bucket's moments of its j-th parameter, as new tensors of the parameter's shape. */
  private sliceOf(b: Bucket, j: number): { m: tf.Tensor; v: tf.Tensor } {
    const p = b.params[j]!;
    if (b.params.length === 1) return { m: tf.keep(b.m.clone()), v: tf.keep(b.v.clone()) };
    const offset = b.params.slice(0, j).reduce((s, q) => s + q.size, 0);
    return tf.tidy(() => ({ m: tf.keep(tf.reshape(tf.slice(b.m, offset, p.size), p.shape)), v: tf.keep(tf.reshape(tf.slice(b.v, offset, p.size), p.shape)) }));
  }

  /** First and second moments of a variable as new tensors the caller disposes (null before its first update). */
  moment(p: tf.Variable): { m: tf.Tensor; v: tf.Tensor } | null {
    for (const b of this.buckets) {
      const j = b.params.indexOf(p);
      if (j >= 0) return this.sliceOf(b, j);
    }
    const parked = this.parked.get(p);
    return parked ? { m: tf.keep(parked.m.clone()), v: tf.keep(parked.v.clone()) } : null;
  }

  /** Restores the moments of a variable (checkpoint resume). */
  setMoment(p: tf.Variable, m: Float32Array, v: Float32Array): void {
    if (m.length !== p.size || v.length !== p.size) {
      throw new TrainingException(TrainingErrorCode.InvalidInput, `AdamW: moments of ${m.length}/${v.length} values for a variable of ${p.size}`, ['m', 'v']);
    }
    // Taken out of the buckets and parked: the next update lays the buckets out again from the parked values.
    const all = this.buckets.flatMap((b) => b.params);
    if (all.includes(p)) this.layOut(all.filter((q) => q !== p));
    const old = this.parked.get(p);
    if (old) tf.dispose([old.m, old.v]);
    this.parked.set(p, { m: tf.keep(tf.tensor(m, p.shape)), v: tf.keep(tf.tensor(v, p.shape)) });
  }

  dispose(): void {
    for (const b of this.buckets) {
      b.m.dispose();
      b.v.dispose();
    }
    this.buckets = [];
    for (const s of this.parked.values()) tf.dispose([s.m, s.v]);
    this.parked.clear();
  }
}
