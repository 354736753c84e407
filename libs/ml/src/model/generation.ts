import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../layers/seeded-random';
import { ModelErrorCode, ModelException } from './model.exception';

export interface GenerationOptions {
  maxNewTokens: number;
  /** Stop after emitting this token (included in the output). */
  eosId?: number;
  /** 'greedy' (default) takes the arg-max; 'top-p' samples from the nucleus. */
  strategy?: 'greedy' | 'top-p';
  /** Softmax temperature for top-p sampling, > 0. Default 1. */
  temperature?: number;
  /** Nucleus mass in (0, 1]. Default 0.9. */
  topP?: number;
  /** Token ids never generated (their logits are treated as -infinity). */
  suppressTokens?: number[];
  /** Seed of the sampling RNG, so a sampled generation is reproducible. Default 0. */
  seed?: number;
}

export function validateGenerationOptions(o: GenerationOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) problems.push(`maxNewTokens must be an integer >= 0, got ${o.maxNewTokens}`);
  if (o.strategy !== undefined && o.strategy !== 'greedy' && o.strategy !== 'top-p')
    problems.push(`strategy must be 'greedy' or 'top-p', got '${String(o.strategy)}'`);
  if (o.temperature !== undefined && !(o.temperature > 0)) problems.push(`temperature must be > 0, got ${o.temperature}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) problems.push(`topP must be in (0, 1], got ${o.topP}`);
  if (problems.length > 0) throw new ModelException(ModelErrorCode.InvalidInput, `Invalid generation options:\n  - ${problems.join('\n  - ')}`);
}

export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Nucleus sampling as HF TopPLogitsWarper: softmax(logits / temperature), keep the most
 * probable tokens until their mass reaches topP (the token that crosses it included, at least
 * one token), renormalise, draw with the seeded RNG.
 */
export function sampleTopP(logits: ArrayLike<number>, topP: number, temperature: number, rng: SeededRandom): number {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] / temperature);
  const probs = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp(logits[i] / temperature - max);
    total += probs[i];
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  const kept: number[] = [];
  let mass = 0;
  for (const i of order) {
    kept.push(i);
    mass += probs[i] / total;
    if (mass >= topP) break;
  }
  let keptMass = 0;
  for (const i of kept) keptMass += probs[i];
  let u = rng.next() * keptMass;
  for (const i of kept) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return kept[kept.length - 1];
}

/**
 * The decode loop shared by the text and multimodal models: prefill returns the logits of the
 * prompt [1, T, V] (filling the KV cache), step feeds one token and returns its logits [1, 1, V].
 */
/**
 * Each row's logits at the last position of logits [B, T, vocab], with suppressed tokens at
 * -Infinity; disposes logits. What every decoding step picks from.
 */
export function lastPositionScores(logits: tf.Tensor, suppressTokens: readonly number[] = []): Float32Array[] {
  const [b, t, v] = logits.shape;
  const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, t - 1, 0], [b, 1, v]), [b, v]));
  const values = last.dataSync().slice() as Float32Array;
  last.dispose();
  logits.dispose();
  return Array.from({ length: b }, (_, row) => {
    const scores = values.subarray(row * v, (row + 1) * v);
    for (const id of suppressTokens) if (id >= 0 && id < v) scores[id] = -Infinity;
    return scores;
  });
}

export function decodeLoop(prefill: () => tf.Tensor, step: (token: number) => tf.Tensor, options: GenerationOptions): number[] {
  validateGenerationOptions(options);
  const rng = new SeededRandom(options.seed ?? 0);
  const strategy = options.strategy ?? 'greedy';
  const pick = (logits: tf.Tensor): number => {
    const [values] = lastPositionScores(logits, options.suppressTokens);
    return strategy === 'greedy' ? argMax(values) : sampleTopP(values, options.topP ?? 0.9, options.temperature ?? 1, rng);
  };
  const out: number[] = [];
  if (options.maxNewTokens === 0) return out;
  let token = pick(prefill());
  out.push(token);
  while (out.length < options.maxNewTokens && token !== options.eosId) {
    token = pick(step(token));
    out.push(token);
  }
  return out;
}
