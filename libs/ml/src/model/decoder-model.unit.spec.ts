import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectException } from '../expect-exception.fixture';
import type { LinearLike } from '../layers/linear';
import { DecoderModel } from './decoder-model';
import { argMax } from './generation';
import type { MistralConfig } from './model-config';
import { ModelErrorCode, ModelException } from './model.exception';
import { HF_LEFT_PADDED, HF_LEFT_PADDED_GREEDY, HF_LEFT_PADDED_LOGITS } from './reference/hf-left-padding.values';
import { HF_TINY_MISTRAL, HF_TINY_MISTRAL_NO_WINDOW_LOGITS } from './reference/hf-reference.values';
import { HF_TINY_MISTRAL_CONFIG, assignFixtureWeights, maxAbsDiff } from './reference/reference-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY = HF_TINY_MISTRAL_CONFIG;

function hfModel(overrides: Partial<MistralConfig> = {}): DecoderModel {
  const model = new DecoderModel({ ...TINY, ...overrides }, 1);
  assignFixtureWeights(model.namedWeights(), HF_TINY_MISTRAL.names);
  return model;
}

function ids(values: number[]): tf.Tensor2D {
  return tf.tensor2d([values], [1, values.length], 'int32');
}

/** Greedy decoding without a cache: the whole sequence is re-run for every new token. */
function uncachedGreedy(model: DecoderModel, prompt: number[], steps: number): number[] {
  const seq = [...prompt];
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => {
      const logits = model.forward({ inputIds: ids(seq) });
      const v = model.config.vocabSize;
      return argMax(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, v]).dataSync());
    });
    seq.push(next);
  }
  return seq.slice(prompt.length);
}

describe(DecoderModel.name, () => {
  describe('forward', () => {
    it('matches Hugging Face MistralForCausalLM logits (grouped-query attention, sliding window 3)', () => {
      const model = hfModel();
      const logits = model.forward({ inputIds: ids(HF_TINY_MISTRAL.ids) });
      expect(logits.shape).toEqual([1, 7, 16]);
      expect(maxAbsDiff(logits.dataSync(), HF_TINY_MISTRAL.logits)).toBeLessThan(2e-5);
      logits.dispose();
      model.dispose();
    });

    it('matches Hugging Face without a sliding window, and the window changes the result', () => {
      const model = hfModel({ slidingWindow: null });
      const logits = model.forward({ inputIds: ids(HF_TINY_MISTRAL.ids) });
      expect(maxAbsDiff(logits.dataSync(), HF_TINY_MISTRAL_NO_WINDOW_LOGITS)).toBeLessThan(2e-5);
      expect(maxAbsDiff(logits.dataSync(), HF_TINY_MISTRAL.logits)).toBeGreaterThan(0.1);
      logits.dispose();
      model.dispose();
    });

    it('gives the same logits incrementally through the KV cache as for the full sequence', () => {
      const model = hfModel();
      const seq = HF_TINY_MISTRAL.ids;
      const cache = model.createCache();
      const parts = [tf.tidy(() => model.forward({ inputIds: ids(seq.slice(0, 4)) }, cache))];
      for (let t = 4; t < seq.length; t++) parts.push(tf.tidy(() => model.forward({ inputIds: ids([seq[t]!]) }, cache)));
      expect(cache.length).toBe(seq.length);
      const incremental = tf.concat(parts, 1);
      expect(maxAbsDiff(incremental.dataSync(), HF_TINY_MISTRAL.logits)).toBeLessThan(2e-5);
      [...parts, incremental].forEach((t) => t.dispose());
      cache.dispose();
      model.dispose();
    });

    it('does not grow the tensor count across forward passes', () => {
      const model = hfModel();
      const input = ids(HF_TINY_MISTRAL.ids);
      model.forward({ inputIds: input }).dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) model.forward({ inputIds: input }).dispose();
      model.generate([1, 2, 3], { maxNewTokens: 4 });
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
      model.dispose();
    });

    it('rejects token ids outside the vocabulary, naming the id', () => {
      const model = new DecoderModel(TINY, 0);
      expect(() => model.forward({ inputIds: ids([1, 16]) })).toThrow(/token id 16 .* outside the vocabulary \[0, 16\)/);
      model.dispose();
    });
  });

  describe('generate', () => {
    it('greedy generation with the KV cache equals uncached full-sequence arg-max decoding', () => {
      const model = hfModel();
      const prompt = [3, 1, 4];
      const cached = model.generate(prompt, { maxNewTokens: 8 });
      expect(cached).toHaveLength(8);
      expect(cached).toEqual(uncachedGreedy(model, prompt, 8));
      model.dispose();
    });

    it('stops at EOS (included) before maxNewTokens', () => {
      const model = hfModel();
      const free = model.generate([3, 1, 4], { maxNewTokens: 6 });
      const eos = free[2]!;
      const firstEos = free.indexOf(eos);
      expect(model.generate([3, 1, 4], { maxNewTokens: 6, eosId: eos })).toEqual(free.slice(0, firstEos + 1));
      model.dispose();
    });

    it('samples reproducibly from the nucleus with a seed; a tiny top-p is greedy', () => {
      const model = hfModel();
      const options = { maxNewTokens: 10, strategy: 'top-p' as const, topP: 0.95, temperature: 5 };
      const a = model.generate([3, 1, 4], { ...options, seed: 11 });
      expect(model.generate([3, 1, 4], { ...options, seed: 11 })).toEqual(a);
      expect(model.generate([3, 1, 4], { ...options, seed: 12 })).not.toEqual(a);
      expect(model.generate([3, 1, 4], { ...options, topP: 1e-6 })).toEqual(model.generate([3, 1, 4], { maxNewTokens: 10 }));
      model.dispose();
    });

    it('rejects invalid options with the list of problems', () => {
      const model = new DecoderModel(TINY, 0);
      expect(() => model.generate([1], { maxNewTokens: 2, topP: 0, temperature: -1 })).toThrow(/temperature must be > 0[\s\S]*topP must be in \(0, 1\]/);
      model.dispose();
    });
  });

  describe('loss', () => {
    it('is the mean next-token cross-entropy over labels that are not -100', () => {
      const model = hfModel();
      const input = ids([3, 1, 4, 1, 5]);
      const labels = tf.tensor2d([[-100, -100, 4, 1, 5]], [1, 5], 'int32');
      const loss = model.loss({ inputIds: input, labels });
      // Reference from the logits: positions 1..3 predict labels 4, 1, 5.
      const logits = model.forward({ inputIds: input });
      const l = logits.arraySync()[0]!;
      let expected = 0;
      for (const [pos, label] of [
        [1, 4],
        [2, 1],
        [3, 5],
      ] as const) {
        const row = l[pos]!;
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        expected += (lse - row[label]!) / 3;
      }
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
      [input, labels, loss, logits].forEach((t) => t.dispose());
      model.dispose();
    });

    it('has gradients that agree with central finite differences', () => {
      const model = hfModel();
      const input = ids([3, 1, 4, 1, 5, 9]);
      const labels = tf.tensor2d([[-100, 1, 4, 1, 5, 9]], [1, 6], 'int32');
      const lossValue = () => tf.tidy(() => model.loss({ inputIds: input, labels }).dataSync()[0]!);
      const targets = [
        'model.layers.0.self_attn.k_proj.weight',
        'model.layers.1.mlp.gate_proj.weight',
        'model.layers.0.input_layernorm.weight',
        'model.embed_tokens.weight',
      ];
      const weights = model.namedWeights();
      const vars = targets.map((n) => weights.get(n)!);
      const { grads } = tf.variableGrads(() => model.loss({ inputIds: input, labels }), vars);
      for (const v of vars) {
        const analytic = grads[v.name]!.dataSync();
        const original = v.dataSync().slice();
        // The element with the largest gradient, so float32 differences are well above noise.
        const index = argMax(Array.from(analytic, Math.abs));
        const eps = 1e-2;
        const at = (delta: number) => {
          const values = original.slice();
          values[index] += delta;
          const t = tf.tensor(values, v.shape);
          v.assign(t);
          t.dispose();
          return lossValue();
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        at(0);
        expect(Math.abs(analytic[index]!)).toBeGreaterThan(1e-3);
        expect(Math.abs(numeric - analytic[index]!)).toBeLessThan(2e-3 + 0.02 * Math.abs(analytic[index]!));
      }
      Object.values(grads).forEach((g) => g.dispose());
      [input, labels].forEach((t) => t.dispose());
      model.dispose();
    });

    it('refuses a batch where every label is ignored', () => {
      const model = new DecoderModel(TINY, 0);
      const input = ids([1, 2, 3]);
      const labels = tf.fill([1, 3], -100, 'int32');
      expect(() => model.loss({ inputIds: input, labels })).toThrow(/every label is -100/);
      model.dispose();
    });
  });

  describe('linearLayers / setLinear', () => {
    it('lists every projection by Hugging Face name and calls a replacement through the map', () => {
      const model = hfModel();
      const names = [...model.linearLayers().keys()];
      expect(names).toContain('model.layers.1.self_attn.q_proj');
      expect(names).toContain('model.layers.0.mlp.down_proj');
      expect(names).toContain('lm_head');
      expect(names).toHaveLength(2 * 7 + 1);
      const original = model.linearLayers().get('lm_head')!;
      const zeros: LinearLike = {
        inFeatures: 16,
        outFeatures: 16,
        apply: (x) => tf.zeros([...x.shape.slice(0, -1), 16]),
        trainableVariables: () => [],
        dispose: () => undefined,
      };
      model.setLinear('lm_head', zeros);
      const logits = model.forward({ inputIds: ids([1, 2]) });
      expect(Array.from(logits.dataSync()).every((v) => v === 0)).toBe(true);
      logits.dispose();
      model.setLinear('lm_head', original);
      model.dispose();
    });

    it('rejects an unknown name or a replacement of another shape', () => {
      const model = new DecoderModel(TINY, 0);
      const layer: LinearLike = { inFeatures: 16, outFeatures: 8, apply: (x) => x, trainableVariables: () => [], dispose: () => undefined };
      expectException(
        () => model.setLinear('model.layers.0.self_attn.q_proj', layer),
        ModelException,
        ModelErrorCode.InvalidInput,
        /maps 16 -> 8 features, the layer maps 16 -> 16/,
      );
      expectException(
        () => model.setLinear('model.layers.9.self_attn.q_proj', layer),
        ModelException,
        ModelErrorCode.UnknownLayer,
        /no linear layer named 'model.layers.9.self_attn.q_proj'/,
      );
      model.dispose();
    });
  });

  describe('trainableVariables / setTrainable', () => {
    it('returns every parameter when trainable and none once frozen', () => {
      const model = new DecoderModel(TINY, 0);
      const total = [...model.namedWeights().values()].reduce((s, v) => s + v.size, 0);
      expect(model.trainableVariables().reduce((s, v) => s + v.size, 0)).toBe(total);
      model.setTrainable(false);
      expect(model.trainableVariables()).toEqual([]);
      model.dispose();
    });

    it('ties lm_head to the embeddings when tieWordEmbeddings is set', () => {
      const model = new DecoderModel({ ...TINY, tieWordEmbeddings: true }, 0);
      expect(model.namedWeights().has('lm_head.weight')).toBe(false);
      expect(model.linearLayers().has('lm_head')).toBe(false);
      const logits = model.forward({ inputIds: ids([1, 2]) });
      expect(logits.shape).toEqual([1, 2, 16]);
      logits.dispose();
      model.dispose();
    });
  });
});

describe('attention mask (left-padded batches, against transformers: reference/hf-left-padding.py)', () => {
  const { ids: paddedIds, mask } = HF_LEFT_PADDED;
  const width = paddedIds[0].length;

  it.each([
    ['sliding window 3', { slidingWindow: 3 }, HF_LEFT_PADDED_LOGITS.window3],
    ['no window', { slidingWindow: null }, HF_LEFT_PADDED_LOGITS.noWindow],
  ] as const)('gives each row the logits transformers gives at its real positions (%s)', (_, overrides, expected) => {
    const model = hfModel(overrides);
    const logits = model.forward({ inputIds: tf.tensor2d(paddedIds, [paddedIds.length, width], 'int32'), attentionMask: tf.tensor2d(mask) });
    const v = TINY.vocabSize;
    expected.forEach((rowLogits, b) => {
      const real = rowLogits.length / v;
      const ours = tf.slice(logits, [b, width - real, 0], [1, real, v]).dataSync();
      expect(maxAbsDiff(ours, rowLogits)).toBeLessThan(2e-5);
    });
    // Without the mask the padded rows come out differently: the mask is what makes them right.
    const unmasked = model.forward({ inputIds: tf.tensor2d(paddedIds, [paddedIds.length, width], 'int32') });
    const real = expected[1].length / v;
    expect(maxAbsDiff(tf.slice(unmasked, [1, width - real, 0], [1, real, v]).dataSync(), expected[1])).toBeGreaterThan(1e-2);
    model.dispose();
  });

  it('generates greedily for a left-padded batch as transformers generate() does', () => {
    const model = hfModel({ slidingWindow: null });
    const prompts = paddedIds.map((row, b) => row.filter((_, j) => mask[b][j] === 1));
    expect(model.generateBatch(prompts, { maxNewTokens: 6 })).toEqual(HF_LEFT_PADDED_GREEDY);
    // Each row as a batch of one continues the same way (the batch changes nothing).
    prompts.forEach((prompt, b) => expect(model.generate(prompt, { maxNewTokens: 6 })).toEqual(HF_LEFT_PADDED_GREEDY[b]));
    // A row stops at its EOS; the others go on.
    const eos = HF_LEFT_PADDED_GREEDY[1][0];
    const stopped = model.generateBatch(prompts, { maxNewTokens: 6, eosId: eos });
    expect(stopped[1]).toEqual([eos]);
    HF_LEFT_PADDED_GREEDY.forEach((row, b) => {
      const cut = row.indexOf(eos);
      expect(stopped[b]).toEqual(cut >= 0 ? row.slice(0, cut + 1) : row);
    });
    model.dispose();
  });

  it('refuses a mask of the wrong shape or with values other than 0 and 1, and sampling in a batch', () => {
    const model = hfModel();
    const input = tf.tensor2d(paddedIds, [paddedIds.length, width], 'int32');
    expectException(
      () => model.forward({ inputIds: input, attentionMask: tf.ones([3, width - 1]) }),
      ModelException,
      ModelErrorCode.InvalidInput,
      /attentionMask must be \[3, 7\]/,
    );
    const two = tf.tensor2d(mask.map((row) => row.map((m) => m * 2)));
    expectException(
      () => model.forward({ inputIds: input, attentionMask: two }),
      ModelException,
      ModelErrorCode.InvalidInput,
      /attentionMask holds 2 at flat index 0; only 0 and 1/,
    );
    expectException(() => model.generateBatch([[1], []], { maxNewTokens: 2 }), ModelException, ModelErrorCode.InvalidInput, /none empty/);
    expectException(() => model.generateBatch([[1]], { maxNewTokens: 2, strategy: 'top-p' }), ModelException, ModelErrorCode.InvalidInput, /only greedy/);
    model.dispose();
  });
});
