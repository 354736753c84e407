import * as tf from '@tensorflow/tfjs-core';
import '../backend/tfjs-registrations';
import { causalLmLoss, IGNORE_INDEX } from '../model/causal-lm-loss';
import { ModelErrorCode, ModelException } from '../model/model.exception';

export type KlDirection = 'forward' | 'reverse';

export interface DistillationOptions {
  /** Weight of the soft (teacher) term; 1 - alpha goes to the hard-label cross entropy. Default 0.5. */
  alpha?: number;
  /** Softmax temperature for both distributions. Default 2. */
  temperature?: number;
  /** forward: KL(teacher ‖ student) (Hinton et al. 2015); reverse: KL(student ‖ teacher) (MiniLLM). */
  direction?: KlDirection;
}

export interface DistillationTerms {
  loss: tf.Scalar;
  kl: tf.Scalar;
  ce: tf.Scalar;
}

/**
 * Identity whose gradient is zero: the teacher's logits are a target, never trained, even if a
 * caller computed them inside a gradient tape over shared variables. (tfjs has no stopGradient.)
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  });
  return f(x) as T;
}

/** Loss inputs and options are inputs of the same call, so both are MODEL_INVALID_INPUT, as in causalLmLoss. */
function invalid(message: string, field: string): ModelException {
  return new ModelException(ModelErrorCode.InvalidInput, `distillationLoss: ${message}`, [field]);
}

function validate(student: tf.Tensor, teacher: tf.Tensor, labels: tf.Tensor, o: Required<DistillationOptions>): void {
  if (student.rank !== 3) throw invalid(`student logits must be [B, T, V], got [${student.shape.join(', ')}]`, 'studentLogits');
  if (teacher.shape.join(',') !== student.shape.join(',')) {
    throw invalid(
      `teacher logits [${teacher.shape.join(', ')}] must have the student's shape [${student.shape.join(', ')}] (same vocabulary and positions)`,
      'teacherLogits',
    );
  }
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw invalid(`alpha must be in [0, 1], got ${o.alpha}`, 'alpha');
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature)) throw invalid(`temperature must be a positive number, got ${o.temperature}`, 'temperature');
  if (o.direction !== 'forward' && o.direction !== 'reverse')
    throw invalid(`direction must be "forward" or "reverse", got ${JSON.stringify(o.direction)}`, 'direction');
  if (labels.rank !== 2 || labels.shape[0] !== student.shape[0] || labels.shape[1] !== student.shape[1]) {
    throw invalid(`labels must be [B, T] = [${student.shape.slice(0, 2).join(', ')}], got [${labels.shape.join(', ')}]`, 'labels');
  }
}

/**
 * Knowledge distillation for causal LMs: loss = α·T²·KL + (1-α)·CE.
 * Both terms use the causal shift (logits at t against label t+1) and only positions whose
 * label is not -100; KL is summed over the vocabulary and averaged over those positions
 * (torch kl_div reduction "batchmean" over the kept rows), CE is the masked mean. T² keeps the
 * soft term's gradient scale independent of T (Hinton et al. 2015).
 */
export function distillationTerms(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, labels: tf.Tensor, options: DistillationOptions = {}): DistillationTerms {
  const o: Required<DistillationOptions> = { alpha: options.alpha ?? 0.5, temperature: options.temperature ?? 2, direction: options.direction ?? 'forward' };
  validate(studentLogits, teacherLogits, labels, o);
  const [b, t, v] = studentLogits.shape;
  return tf.tidy(() => {
    const ce = causalLmLoss(studentLogits, labels); // validates labels, refuses an all -100 batch
    const rows = b * (t - 1);
    const flat = (x: tf.Tensor) => tf.reshape(tf.slice(x, [0, 0, 0], [b, t - 1, v]), [rows, v]);
    const logS = tf.logSoftmax(tf.div(flat(studentLogits), o.temperature), -1);
    const logT = tf.logSoftmax(tf.div(flat(stopGradient(teacherLogits)), o.temperature), -1);
    const [logP, logQ] = o.direction === 'forward' ? [logT, logS] : [logS, logT];
    const perRow = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1);
    const shifted = tf.reshape(tf.slice(tf.cast(labels, 'int32'), [0, 1], [b, t - 1]), [rows]);
    const mask = tf.cast(tf.notEqual(shifted, IGNORE_INDEX), 'float32');
    const kl = tf.div(tf.sum(tf.mul(perRow, mask)), tf.sum(mask)) as tf.Scalar;
    const loss = tf.add(tf.mul(kl, o.alpha * o.temperature * o.temperature), tf.mul(ce, 1 - o.alpha)) as tf.Scalar;
    return { loss, kl, ce };
  });
}

export function distillationLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, labels: tf.Tensor, options: DistillationOptions = {}): tf.Scalar {
  const { loss, kl, ce } = distillationTerms(studentLogits, teacherLogits, labels, options);
  kl.dispose();
  ce.dispose();
  return loss;
}
