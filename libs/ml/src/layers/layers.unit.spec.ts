import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  HF_ACT_X,
  HF_GELU,
  HF_GELU_TANH,
  HF_MASK_CAUSAL,
  HF_MASK_SLIDING3,
  HF_QUICK_GELU,
  HF_RMS_NORM,
  HF_ROTARY_OFFSET0,
  HF_ROTARY_OFFSET5,
  HF_SILU,
} from '../model/reference/hf-reference.values';
import { expectException } from '../expect-exception.fixture';
import { fixtureValues, maxAbsDiff } from '../model/reference/reference-fixtures';
import { activation, geluExact, geluTanh, quickGelu, silu } from './activations';
import { attention, repeatKv } from './attention';
import { causalMask, MASKED_SCORE } from './attention-mask';
import { embeddingLookup } from './embedding';
import { LayerErrorCode, LayerException } from './layer.exception';
import { Linear } from './linear';
import { LayerNorm, RmsNorm } from './norms';
import { applyRotary, RotaryEmbedding, rotateHalf } from './rotary-embedding';

// Reference values: libs/ml/src/model/reference/hf-reference.py (transformers 5.24, torch 2.15).

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('activations', () => {
  it.each([
    ['gelu (exact, LLaVA projector)', geluExact, HF_GELU],
    ['gelu tanh approximation', geluTanh, HF_GELU_TANH],
    ['quick_gelu (CLIP ViT)', quickGelu, HF_QUICK_GELU],
    ['silu (Mistral MLP)', silu, HF_SILU],
  ])('%s matches PyTorch', (_name, fn, expected) => {
    const y = fn(tf.tensor1d(HF_ACT_X));
    expect(maxAbsDiff(y.dataSync(), expected)).toBeLessThan(1e-6);
    y.dispose();
  });

  it('rejects an unknown activation name with the valid ones', () => {
    expect(() => activation('relu' as never, tf.scalar(1))).toThrow(/unknown activation 'relu'; valid: silu, gelu, gelu_tanh, quick_gelu/);
  });
});

describe(RmsNorm.name, () => {
  it('matches Hugging Face MistralRMSNorm', () => {
    const norm = new RmsNorm('n', 6, 1e-6);
    norm.weight.assign(tf.tensor1d(HF_RMS_NORM.weight));
    const y = norm.apply(tf.tensor2d(HF_RMS_NORM.x, [2, 6]));
    expect(maxAbsDiff(y.dataSync(), HF_RMS_NORM.y)).toBeLessThan(2e-6);
    norm.weight.dispose();
  });
});

describe(LayerNorm.name, () => {
  it('normalises with the biased variance, then scales and shifts', () => {
    // x = [1, 2, 3, 6]: mean 3, variance (4+1+0+9)/4 = 3.5.
    const norm = new LayerNorm('ln', 4, 1e-5);
    norm.weight.assign(tf.tensor1d([1, 2, 1, 1]));
    norm.bias.assign(tf.tensor1d([0, 0, 1, 0]));
    const y = norm.apply(tf.tensor2d([[1, 2, 3, 6]]));
    const s = Math.sqrt(3.5 + 1e-5);
    expect(maxAbsDiff(y.dataSync(), [-2 / s, (2 * -1) / s, 1, 3 / s])).toBeLessThan(1e-6);
    norm.weight.dispose();
    norm.bias.dispose();
  });
});

describe(RotaryEmbedding.name, () => {
  it.each([
    ['positions 0..2', 0, HF_ROTARY_OFFSET0],
    ['positions 5..7 (after 5 cached tokens)', 5, HF_ROTARY_OFFSET5],
  ])('matches HF LlamaRotaryEmbedding + apply_rotary_pos_emb at %s', (_name, offset, ref) => {
    const rope = new RotaryEmbedding(8, 10000);
    const { cos, sin } = rope.cosSin(3, offset);
    expect(maxAbsDiff(cos.dataSync(), ref.cos)).toBeLessThan(1e-6);
    expect(maxAbsDiff(sin.dataSync(), ref.sin)).toBeLessThan(1e-6);
    const q = tf.tensor4d(fixtureValues(48, 1), [1, 2, 3, 8]);
    const k = tf.tensor4d(fixtureValues(48, 2), [1, 2, 3, 8]);
    expect(maxAbsDiff(applyRotary(q, cos, sin).dataSync(), ref.q)).toBeLessThan(1e-6);
    expect(maxAbsDiff(applyRotary(k, cos, sin).dataSync(), ref.k)).toBeLessThan(1e-6);
  });

  it('rotate_half maps [x1, x2] to [-x2, x1]', () => {
    expect(Array.from(rotateHalf(tf.tensor1d([1, 2, 3, 4])).dataSync())).toEqual([-3, -4, 1, 2]);
  });

  it('rejects an odd head dimension', () => {
    expectException(() => new RotaryEmbedding(5, 10000), LayerException, LayerErrorCode.InvalidConfig, /headDim must be a positive even integer, got 5/);
  });
});

describe('causalMask', () => {
  const allowed = (m: tf.Tensor2D) => m.arraySync().map((row) => row.map((v) => (v === 0 ? 1 : 0)));

  it('is the HF causal mask, with queries offset by the cached length', () => {
    expect(allowed(causalMask(4, 2, null))).toEqual(HF_MASK_CAUSAL);
  });

  it('is the HF Mistral sliding-window mask: i attends j when i - window < j <= i', () => {
    expect(allowed(causalMask(4, 2, 3))).toEqual(HF_MASK_SLIDING3);
    expect(causalMask(1, 0, 3).dataSync()[0]).toBe(0);
    expect(causalMask(2, 0, 1).arraySync()).toEqual([
      [0, MASKED_SCORE],
      [MASKED_SCORE, 0],
    ]);
  });

  it('rejects a non-positive window', () => {
    expect(() => causalMask(2, 0, 0)).toThrow(/slidingWindow must be a positive integer or null, got 0/);
  });
});

describe('attention', () => {
  it('repeat_kv repeats each key/value head consecutively', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 1, 2]); // heads [1, 2] and [3, 4]
    expect(Array.from(repeatKv(x, 2).dataSync())).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
  });

  it('grouped-query attention equals multi-head attention with each key/value projection duplicated', () => {
    const hidden = 8;
    const headDim = 2;
    const q = new Linear('q', hidden, 4 * headDim, { bias: false, seed: 1 });
    const k = new Linear('k', hidden, 2 * headDim, { bias: false, seed: 2 });
    const v = new Linear('v', hidden, 2 * headDim, { bias: false, seed: 3 });
    const o = new Linear('o', 4 * headDim, hidden, { bias: false, seed: 4 });
    // Duplicate rows head by head: kv head 0 serves query heads 0, 1; kv head 1 serves 2, 3.
    const dup = (w: tf.Variable) =>
      tf.concat(
        [tf.slice(w, [0, 0], [2, hidden]), tf.slice(w, [0, 0], [2, hidden]), tf.slice(w, [2, 0], [2, hidden]), tf.slice(w, [2, 0], [2, hidden])],
        0,
      ) as tf.Tensor2D;
    const kFull = new Linear('k4', hidden, 8, { bias: false, init: dup(k.weight) });
    const vFull = new Linear('v4', hidden, 8, { bias: false, init: dup(v.weight) });
    const x = tf.randomNormal([2, 5, hidden], 0, 1, 'float32', 9);
    const rope = new RotaryEmbedding(headDim, 10000).cosSin(5);
    const mask = causalMask(5, 0, 3);
    const gqa = attention(x, { q, k, v, o }, { numHeads: 4, numKeyValueHeads: 2, headDim, rotary: rope, mask });
    const mha = attention(x, { q, k: kFull, v: vFull, o }, { numHeads: 4, numKeyValueHeads: 4, headDim, rotary: rope, mask });
    expect(gqa.key.shape).toEqual([2, 2, 5, 2]);
    expect(maxAbsDiff(gqa.output.dataSync(), mha.output.dataSync())).toBeLessThan(1e-6);
  });

  it('rejects key/value heads that do not divide the query heads', () => {
    const l = new Linear('l', 4, 4);
    expect(() => attention(tf.zeros([1, 2, 4]), { q: l, k: l, v: l, o: l }, { numHeads: 4, numKeyValueHeads: 3, headDim: 1 })).toThrow(
      /numHeads \(4\) must be a multiple of numKeyValueHeads \(3\)/,
    );
  });
});

describe('embeddingLookup', () => {
  it('gathers rows and back-propagates the same gradient as tf.gather', () => {
    const table = tf.tensor2d(fixtureValues(5 * 3, 4), [5, 3]);
    const ids = tf.tensor2d(
      [
        [1, 4, 1],
        [0, 2, 4],
      ],
      [2, 3],
      'int32',
    );
    const weights = tf.tensor3d(fixtureValues(2 * 3 * 3, 6), [2, 3, 3]);
    expect(Array.from(embeddingLookup(table, ids).dataSync())).toEqual(Array.from(tf.gather(table, ids).dataSync()));
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t, ids), weights)))(table);
    const theirs = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
    expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-6);
    // Row 1 is used twice, row 3 never.
    expect(Array.from(tf.slice(ours, [3, 0], [1, 3]).dataSync())).toEqual([0, 0, 0]);
  });
});
