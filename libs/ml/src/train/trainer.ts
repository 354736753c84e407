import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs';
import * as path from 'path';
import '../backend/tfjs-registrations';
import { assignRecord, checkTensorsFit, parseSafetensors, serializeSafetensors, tensorsToRecords } from '../safetensors';
import { AdamW, AdamWOptions } from './adamw.optimizer';
import { DataOrder, DataOrderState } from './data-order';
import { CosineScheduleOptions, cosineWithWarmup } from './lr-schedule';
import { TrainingErrorCode, TrainingException } from './training.exception';

/** What a model offers the trainer: its trainable variables by stable name and a loss. */
export interface TrainTask<B> {
  /** Trainable variables by name; the names are checkpoint keys. */
  variables(): Map<string, tf.Variable>;
  /** Scalar loss of one micro-batch; runs inside the gradient tape. */
  loss(batch: B): tf.Scalar;
  /** Tokens in a batch (for tokens/s). */
  tokens(batch: B): number;
  /** Train/eval mode (dropout). */
  setTraining?(flag: boolean): void;
  /** Randomness the task draws itself (LoRA dropout), saved in checkpoints. */
  rngState?(): unknown;
  setRngState?(state: unknown): void;
}

export interface TrainerOptions {
  batchSize: number;
  seed: number;
  /** Micro-batches per optimizer step; gradients are averaged over them. Default 1. */
  gradAccumulation?: number;
  optimizer?: AdamWOptions;
  /** Warmup + cosine decay of the optimizer's lr; omitted: constant lr. */
  schedule?: CosineScheduleOptions;
  /** Clip the global gradient norm to this (torch clip_grad_norm_); null: no clipping. Default 1.0 as HF Trainer. */
  maxGradNorm?: number | null;
  onProgress?: (p: TrainingProgress) => void;
}

export interface TrainingProgress {
  /** Optimizer steps completed. */
  step: number;
  /** Mean loss over the step's micro-batches. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  epoch: number;
}

export const CHECKPOINT_STATE_FILE = 'trainer_state.json';
export const CHECKPOINT_TENSORS_FILE = 'checkpoint.safetensors';
const CHECKPOINT_FORMAT = 'trellis-trainer-checkpoint/1';

interface CheckpointState {
  format: string;
  step: number;
  optimizerStep: number;
  dataOrder: DataOrderState;
  taskRng: unknown;
  /** For people reading the file; loading checks the tensors themselves. */
  variables: string[];
  settings: { batchSize: number; gradAccumulation: number; seed: number };
}

/**
 * The training loop: seeded epoch-shuffled batches, gradient accumulation, global-norm
 * clipping, AdamW under a warmup + cosine schedule, a progress callback, non-finite loss or
 * gradient detection that stops before the weights are touched, and checkpoints (weights,
 * moments, step, data order and the task's RNG state) from which a resumed run is
 * bit-identical to an uninterrupted one.
 */
export class Trainer<E, B> {
  readonly optimizer: AdamW;
  private readonly order: DataOrder;
  private readonly accumulation: number;
  private readonly maxGradNorm: number | null;
  private stepsDone = 0;

  constructor(
    private readonly task: TrainTask<B>,
    private readonly data: readonly E[],
    private readonly collate: (items: E[]) => B,
    private readonly options: TrainerOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) {
      throw new TrainingException(TrainingErrorCode.InvalidOptions, `Trainer: batchSize must be a positive integer, got ${options.batchSize}`, ['batchSize']);
    }
    this.accumulation = options.gradAccumulation ?? 1;
    if (!Number.isInteger(this.accumulation) || this.accumulation <= 0) {
      const message = `Trainer: gradAccumulation must be a positive integer, got ${this.accumulation}`;
      throw new TrainingException(TrainingErrorCode.InvalidOptions, message, ['gradAccumulation']);
    }
    this.maxGradNorm = options.maxGradNorm === undefined ? 1 : options.maxGradNorm;
    if (task.variables().size === 0) throw new TrainingException(TrainingErrorCode.InvalidInput, 'Trainer: the task has no trainable variables', ['task']);
    this.optimizer = new AdamW(options.optimizer);
    this.order = new DataOrder(data.length, options.seed);
  }

  get step(): number {
    return this.stepsDone;
  }

  /** Learning rate of the optimizer step with 0-based index `step`. */
  lrAt(step: number): number {
    return this.optimizer.lr * (this.options.schedule ? cosineWithWarmup(step, this.options.schedule) : 1);
  }

  /** One optimizer step over gradAccumulation micro-batches. */
  trainStep(): TrainingProgress {
    const started = process.hrtime.bigint();
    const stepNo = this.stepsDone + 1;
    const named = [...this.task.variables()];
    const vars = named.map(([, v]) => v);
    this.task.setTraining?.(true);
    let acc: (tf.Tensor | null)[] | null = null;
    let lossSum = 0;
    let tokens = 0;
    try {
      for (let k = 0; k < this.accumulation; k++) {
        const batch = this.collate(this.order.next(this.options.batchSize).map((i) => this.data[i]));
        try {
          tokens += this.task.tokens(batch);
          const { value, grads } = tf.variableGrads(() => this.task.loss(batch), vars);
          const loss = value.dataSync()[0];
          value.dispose();
          // A variable the loss does not reach gets no gradient (null), like a torch parameter
          // whose .grad stays None; it is then skipped by the optimizer, as torch skips it.
          const list: (tf.Tensor | null)[] = vars.map((v) => grads[v.name] ?? null);
          if (!Number.isFinite(loss)) {
            tf.dispose(grads);
            throw new TrainingException(
              TrainingErrorCode.Diverged,
              `Training diverged: loss is ${loss} at step ${stepNo} (micro-batch ${k + 1} of ${this.accumulation}); weights were not updated`,
              [],
              stepNo,
            );
          }
          lossSum += loss;
          if (acc === null) acc = list;
          else {
            const prev: (tf.Tensor | null)[] = acc;
            acc = prev.map((a, i) => {
              const g = list[i];
              return a && g ? tf.add(a, g) : a ? tf.clone(a) : g ? tf.clone(g) : null;
            });
            tf.dispose(prev.filter(isTensor));
            tf.dispose(list.filter(isTensor));
          }
        } finally {
          tf.dispose(batch as unknown as tf.TensorContainer);
        }
      }
      const reached = acc!.map((g, i) => (g ? i : -1)).filter((i) => i >= 0);
      if (reached.length === 0) {
        throw new TrainingException(TrainingErrorCode.NoGradient, `No trainable variable receives a gradient at step ${stepNo}`, [], stepNo);
      }
      let grads = reached.map((i) => acc![i]!);
      const stepVars = reached.map((i) => vars[i]);
      acc = null;
      if (this.accumulation > 1) {
        const summed = grads;
        grads = summed.map((g) => tf.div(g, this.accumulation));
        tf.dispose(summed);
      }
      // Laid out once as the optimizer's buckets for the norm, the clipping and the update.
      const prepared = this.optimizer.prepare(stepVars, grads);
      tf.dispose(grads);
      const lr = this.lrAt(this.stepsDone);
      let gradNorm: number;
      try {
        gradNorm = this.optimizer.gradNorm(prepared);
        if (!Number.isFinite(gradNorm)) {
          throw new TrainingException(
            TrainingErrorCode.Diverged,
            `Training diverged: gradient norm is ${gradNorm} at step ${stepNo}; weights were not updated`,
            [],
            stepNo,
          );
        }
        // torch.nn.utils.clip_grad_norm_: scaled by maxNorm / (norm + 1e-6) when that is below 1.
        const scale = this.maxGradNorm === null ? 1 : Math.min(1, this.maxGradNorm / (gradNorm + 1e-6));
        this.optimizer.applyPrepared(prepared, lr, scale);
      } finally {
        tf.dispose(prepared.grads);
      }
      this.stepsDone = stepNo;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const progress: TrainingProgress = {
        step: stepNo,
        loss: lossSum / this.accumulation,
        lr,
        gradNorm,
        tokens,
        tokensPerSecond: tokens / Math.max(seconds, 1e-9),
        epoch: this.order.getState().epoch,
      };
      this.options.onProgress?.(progress);
      return progress;
    } finally {
      if (acc) tf.dispose(acc.filter(isTensor));
      this.task.setTraining?.(false);
    }
  }

  train(steps: number): TrainingProgress[] {
    const out: TrainingProgress[] = [];
    for (let i = 0; i < steps; i++) out.push(this.trainStep());
    return out;
  }

  /** Writes trainable weights + AdamW moments (safetensors) and the loop state (JSON). */
  saveCheckpoint(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const tensors: [string, tf.Tensor][] = [];
    const names: string[] = [];
    /** Copies the optimizer made for this checkpoint, disposed once written. */
    const moments: tf.Tensor[] = [];
    for (const [name, v] of this.task.variables()) {
      names.push(name);
      tensors.push([`param/${name}`, v]);
      const m = this.optimizer.moment(v);
      if (m) {
        tensors.push([`exp_avg/${name}`, m.m], [`exp_avg_sq/${name}`, m.v]);
        moments.push(m.m, m.v);
      }
    }
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      step: this.stepsDone,
      optimizerStep: this.optimizer.step,
      dataOrder: this.order.getState(),
      taskRng: this.task.rngState?.() ?? null,
      variables: names,
      settings: { batchSize: this.options.batchSize, gradAccumulation: this.accumulation, seed: this.options.seed },
    };
    // Tensors first, state last: a checkpoint with a state file is complete.
    try {
      writeAtomically(path.join(dir, CHECKPOINT_TENSORS_FILE), serializeSafetensors(tensorsToRecords(tensors), { format: CHECKPOINT_FORMAT }));
    } finally {
      tf.dispose(moments);
    }
    writeAtomically(path.join(dir, CHECKPOINT_STATE_FILE), Buffer.from(JSON.stringify(state, null, 2)));
  }

  /**
   * Restores a checkpoint written by saveCheckpoint for the same task and settings. The state,
   * every tensor name and shape, the data order and the task's RNG state are checked before the
   * first weight is assigned, so a checkpoint that does not fit leaves the weights as they were.
   */
  loadCheckpoint(dir: string): void {
    const statePath = path.join(dir, CHECKPOINT_STATE_FILE);
    const tensorsPath = path.join(dir, CHECKPOINT_TENSORS_FILE);
    for (const file of [statePath, tensorsPath]) {
      if (!fs.existsSync(file)) {
        const name = path.basename(file);
        throw new TrainingException(TrainingErrorCode.CheckpointNotFound, `Trainer: no checkpoint at ${dir} (missing ${name})`, [name]);
      }
    }
    const incompatible = (message: string, field: string) => new TrainingException(TrainingErrorCode.CheckpointIncompatible, `Trainer: ${message}`, [field]);
    let state: CheckpointState;
    try {
      state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as CheckpointState;
    } catch (err) {
      throw incompatible(`${statePath} is not JSON: ${(err as Error).message}`, CHECKPOINT_STATE_FILE);
    }
    if (state?.format !== CHECKPOINT_FORMAT)
      throw incompatible(`${statePath} has format ${JSON.stringify(state?.format)}, expected ${CHECKPOINT_FORMAT}`, 'format');
    const settings = { batchSize: this.options.batchSize, gradAccumulation: this.accumulation, seed: this.options.seed };
    if (JSON.stringify(state.settings) !== JSON.stringify(settings)) {
      throw incompatible(
        `checkpoint settings ${JSON.stringify(state.settings)} differ from this trainer's ${JSON.stringify(settings)}; a resume would not continue the same run`,
        'settings',
      );
    }
    const { tensors } = parseSafetensors(fs.readFileSync(tensorsPath));
    const vars = this.task.variables();
    // Moments exist for the variables the optimizer has updated; where either is saved, both must be.
    const expected = new Map<string, tf.Variable>();
    for (const [name, v] of vars) {
      expected.set(`param/${name}`, v);
      if (tensors[`exp_avg/${name}`] || tensors[`exp_avg_sq/${name}`]) {
        expected.set(`exp_avg/${name}`, v);
        expected.set(`exp_avg_sq/${name}`, v);
      }
    }
    checkTensorsFit(expected, new Map(Object.entries(tensors)), { source: tensorsPath, target: "this trainer's variables and their AdamW moments" });
    this.order.setState(state.dataOrder);
    if (state.taskRng !== null && this.task.setRngState) this.task.setRngState(state.taskRng);
    for (const [name, v] of vars) {
      assignRecord(v, tensors[`param/${name}`]);
      const m = tensors[`exp_avg/${name}`];
      const s = tensors[`exp_avg_sq/${name}`];
      if (m && s) this.optimizer.setMoment(v, m.data as Float32Array, s.data as Float32Array);
    }
    this.optimizer.step = state.optimizerStep;
    this.stepsDone = state.step;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

function isTensor(t: tf.Tensor | null): t is tf.Tensor {
  return t !== null;
}

function writeAtomically(file: string, bytes: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

/** Mean of the per-batch mean losses over a data set, in evaluation mode, without gradients. */
export function evaluateLoss<E, B>(
  task: Pick<TrainTask<B>, 'loss' | 'setTraining'>,
  data: readonly E[],
  collate: (items: E[]) => B,
  batchSize: number,
): number {
  if (data.length === 0) throw new TrainingException(TrainingErrorCode.InvalidInput, 'evaluateLoss: empty data set', ['data']);
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new TrainingException(TrainingErrorCode.InvalidOptions, `evaluateLoss: batchSize must be a positive integer, got ${batchSize}`, ['batchSize']);
  }
  task.setTraining?.(false);
  let sum = 0;
  let batches = 0;
  for (let i = 0; i < data.length; i += batchSize) {
    const batch = collate(data.slice(i, i + batchSize));
    try {
      sum += tf.tidy(() => task.loss(batch).dataSync()[0]);
    } finally {
      tf.dispose(batch as unknown as tf.TensorContainer);
    }
    batches++;
  }
  return sum / batches;
}
