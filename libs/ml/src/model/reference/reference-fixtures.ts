import * as tf from '@tensorflow/tfjs-core';
import type { MistralConfig } from '../model-config';

/** The tiny MistralForCausalLM of hf-reference.py: GQA 4/2 heads, head_dim 4, sliding window 3. */
export const HF_TINY_MISTRAL_CONFIG: MistralConfig = {
  vocabSize: 16,
  hiddenSize: 16,
  intermediateSize: 24,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  numKeyValueHeads: 2,
  headDim: 4,
  maxPositionEmbeddings: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  slidingWindow: 3,
  tieWordEmbeddings: false,
};

/**
 * fixture_values of hf-reference.py: deterministic tensor contents, so a tiny HF model and
 * ours hold the same weights without shipping them. Tensor k (in sorted HF-name order) of n
 * elements gets 0.2·sin(1.7i + 0.9k + 0.3) + 0.1·cos(0.31·i·(k+1)), in float32.
 */
export function fixtureValues(n: number, k: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.2 * Math.sin(1.7 * i + 0.9 * k + 0.3) + 0.1 * Math.cos(0.31 * i * (k + 1));
  return out;
}

/**
 * Assigns fixture weights to a model's named weights. `hfNames` is the sorted name list the
 * script printed; `toHf` maps our name to the HF name of that transformers version. Throws
 * when the two name sets differ, so a missing or extra tensor shows up by name.
 */
export function assignFixtureWeights(weights: Map<string, tf.Variable>, hfNames: string[], toHf: (name: string) => string = (n) => n): void {
  const byHf = new Map<string, tf.Variable>();
  for (const [name, v] of weights) byHf.set(toHf(name), v);
  const ours = [...byHf.keys()].sort();
  const missing = hfNames.filter((n) => !byHf.has(n));
  const extra = ours.filter((n) => !hfNames.includes(n));
  // Plain Errors in this file: it only serves the unit tests, where a throw is a failed test
  // (a fixture out of date with the model), not something a caller of the library can do.
  if (missing.length || extra.length) throw new Error(`weights differ from HF: missing ${missing.join(', ')}; extra ${extra.join(', ')}`);
  hfNames.forEach((name, k) => {
    const v = byHf.get(name)!;
    let values = fixtureValues(v.size, k);
    if (name.includes('norm')) values = values.map((x) => Math.fround(x + 1));
    const t = tf.tensor(values, v.shape);
    v.assign(t);
    t.dispose();
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
