import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { argMax } from './generation';
import { type MultimodalConfig, tinyMultimodalConfig } from './model-config';
import { MultimodalModel } from './multimodal-model';
import { HF_TINY_LLAVA } from './reference/hf-reference.values';
import { assignFixtureWeights, maxAbsDiff } from './reference/reference-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The tiny LlavaForConditionalGeneration of hf-reference.py. */
const TINY_LLAVA: MultimodalConfig = {
  text: {
    vocabSize: 16,
    hiddenSize: 16,
    intermediateSize: 24,
    numHiddenLayers: 1,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    headDim: 4,
    maxPositionEmbeddings: 64,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    slidingWindow: null,
    tieWordEmbeddings: false,
  },
  vision: {
    imageSize: 16,
    patchSize: 8,
    numChannels: 3,
    hiddenSize: 8,
    intermediateSize: 12,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    layerNormEps: 1e-5,
    hiddenAct: 'quick_gelu',
  },
  projector: { hiddenAct: 'gelu' },
  imageTokenId: 15,
  visionFeatureLayer: -2,
};

/** llava-hf checkpoint names (ours) -> transformers 5 module names (the script's). */
function toTransformers5(name: string): string {
  return name
    .replace(/^language_model\.model\./, 'model.language_model.')
    .replace(/^language_model\.lm_head\./, 'lm_head.')
    .replace(/^vision_tower\.vision_model\./, 'model.vision_tower.')
    .replace(/^multi_modal_projector\./, 'model.multi_modal_projector.');
}

function hfLlava(): MultimodalModel {
  const model = new MultimodalModel(TINY_LLAVA, 3);
  assignFixtureWeights(model.namedWeights(), HF_TINY_LLAVA.names, toTransformers5);
  return model;
}

const image = () => tf.tensor4d(HF_TINY_LLAVA.image_hwc, [1, 16, 16, 3]);
const ids = (values: number[][]) => tf.tensor2d(values, [values.length, values[0]!.length], 'int32');

describe(MultimodalModel.name, () => {
  describe('forward', () => {
    it('matches Hugging Face LLaVA: vision features of layer -2 without the class token, and the logits', () => {
      const model = hfLlava();
      const pixels = image();
      const features = model.visionTower.patchFeatures(pixels, -2);
      expect(features.shape).toEqual([1, 4, 8]);
      expect(maxAbsDiff(features.dataSync(), HF_TINY_LLAVA.features)).toBeLessThan(2e-5);
      const input = ids([HF_TINY_LLAVA.ids]);
      const logits = model.forward({ pixelValues: pixels, inputIds: input });
      // One <image> token became 4 patch positions: 5 + 4 - 1.
      expect(logits.shape).toEqual([1, 8, 16]);
      expect(maxAbsDiff(logits.dataSync(), HF_TINY_LLAVA.logits)).toBeLessThan(2e-5);
      [pixels, features, input, logits].forEach((t) => t.dispose());
      model.dispose();
    });

    it('places each row’s image where its token is', () => {
      const model = hfLlava();
      const pixels = tf.concat([image(), tf.zeros([1, 16, 16, 3])], 0);
      const input = ids([
        [1, 15, 3, 4, 5],
        [1, 3, 4, 15, 5],
      ]);
      const merged = model.mergedEmbeddings({ pixelValues: pixels, inputIds: input });
      const features = model.imageFeatures(pixels);
      expect(merged.shape).toEqual([2, 8, 16]);
      const row1Image = tf.slice(merged, [1, 3, 0], [1, 4, 16]);
      expect(maxAbsDiff(row1Image.dataSync(), tf.slice(features, [1, 0, 0], [1, 4, 16]).dataSync())).toBe(0);
      const row1Last = tf.slice(merged, [1, 7, 0], [1, 1, 16]);
      const token5 = model.languageModel.embed(ids([[5]]));
      expect(maxAbsDiff(row1Last.dataSync(), token5.dataSync())).toBe(0);
      tf.dispose([pixels, input, merged, features, row1Image, row1Last, token5]);
      model.dispose();
    });

    it('requires exactly one image token per row', () => {
      const model = hfLlava();
      const pixels = image();
      const none = ids([[1, 3, 4]]);
      const two = ids([[1, 15, 15]]);
      expect(() => model.forward({ pixelValues: pixels, inputIds: none })).toThrow(/row 0 of inputIds has 0 image tokens \(id 15\)/);
      expect(() => model.forward({ pixelValues: pixels, inputIds: two })).toThrow(/has 2 image tokens \(id 15\) at \[1, 2\]/);
      tf.dispose([pixels, none, two]);
      model.dispose();
    });

    it('rejects images of the wrong size, naming the expected layout', () => {
      const model = hfLlava();
      const pixels = tf.zeros([1, 3, 16, 16]);
      const input = ids([[1, 15]]);
      expect(() => model.forward({ pixelValues: pixels, inputIds: input })).toThrow(
        /pixelValues must be \[B, 16, 16, 3\] \(NHWC, 0..1\), got \[1, 3, 16, 16\]/,
      );
      tf.dispose([pixels, input]);
      model.dispose();
    });
  });

  describe('loss', () => {
    it('ignores the image positions and equals the text loss computed on the merged sequence', () => {
      const model = hfLlava();
      const pixels = image();
      const input = ids([[1, 15, 3, 4, 5]]);
      const labels = ids([[-100, -100, 3, 4, 5]]);
      const loss = model.loss({ pixelValues: pixels, inputIds: input, labels });
      const expanded = model.expandLabels(input, labels);
      expect(Array.from(expanded.dataSync())).toEqual([-100, -100, -100, -100, -100, 3, 4, 5]);
      // Hand reference from the HF logits: positions 4, 5, 6 predict 3, 4, 5.
      let expected = 0;
      for (const [pos, label] of [
        [4, 3],
        [5, 4],
        [6, 5],
      ] as const) {
        const row = HF_TINY_LLAVA.logits.slice(pos * 16, pos * 16 + 16);
        const max = Math.max(...row);
        expected += (max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[label]!) / 3;
      }
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 4);
      tf.dispose([pixels, input, labels, loss, expanded]);
      model.dispose();
    });

    it('trains: gradients reach the projector, vision tower and decoder, and tensors do not leak', () => {
      const config = tinyMultimodalConfig({ vocabSize: 40, imageTokenId: 39 });
      const model = new MultimodalModel(config, 5);
      const pixels = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1);
      const input = ids([
        [1, 39, 5, 6, 7, 2],
        [1, 39, 8, 9, 10, 2],
      ]);
      const labels = ids([
        [-100, -100, 5, 6, 7, 2],
        [-100, -100, 8, 9, 10, 2],
      ]);
      const vars = model.trainableVariables();
      const step = () => {
        const { value, grads } = tf.variableGrads(() => model.loss({ pixelValues: pixels, inputIds: input, labels }), vars);
        const names = model.namedWeights();
        const norms = new Map([...names].map(([n, v]) => [n, grads[v.name] ? tf.tidy(() => tf.norm(grads[v.name]!).dataSync()[0]!) : -1]));
        tf.tidy(() => vars.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.05)))));
        const loss = value.dataSync()[0]!;
        tf.dispose([value, ...Object.values(grads)]);
        return { loss, norms };
      };
      const first = step();
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 4; i++) last = step();
      expect(tf.memory().numTensors).toBe(before);
      expect(last.loss).toBeLessThan(first.loss);
      expect(first.norms.get('multi_modal_projector.linear_1.weight')).toBeGreaterThan(0);
      expect(first.norms.get('vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight')).toBeGreaterThan(0);
      expect(first.norms.get('language_model.model.layers.1.mlp.up_proj.weight')).toBeGreaterThan(0);
      // Feature layer -2 of 2: the last vision layer does not feed the projector, as in LLaVA, so it is not trained.
      expect(first.norms.get('vision_tower.vision_model.encoder.layers.1.mlp.fc1.weight')).toBe(-1);
      expect(first.norms.get('vision_tower.vision_model.post_layernorm.weight')).toBe(-1);
      expect(vars).not.toContain(model.namedWeights().get('vision_tower.vision_model.encoder.layers.1.mlp.fc1.weight'));
      tf.dispose([pixels, input, labels]);
      model.dispose();
    });
  });

  describe('generate', () => {
    it('with the KV cache equals uncached arg-max decoding over the merged sequence', () => {
      const model = hfLlava();
      const pixels = image();
      const prompt = [1, 15, 3];
      const cached = model.generate({ pixelValues: pixels, inputIds: prompt }, { maxNewTokens: 6 });
      const seq = [...prompt];
      for (let s = 0; s < 6; s++) {
        seq.push(
          tf.tidy(() => {
            const logits = model.forward({ pixelValues: pixels, inputIds: ids([seq]) });
            const t = logits.shape[1];
            const last = tf
              .slice(logits, [0, t - 1, 0], [1, 1, 16])
              .dataSync()
              .slice();
            last[15] = -Infinity; // the image token is never generated
            return argMax(last);
          }),
        );
      }
      expect(cached).toEqual(seq.slice(prompt.length));
      pixels.dispose();
      model.dispose();
    });
  });

  describe('linearLayers', () => {
    it('names layers as llava-hf checkpoints do', () => {
      const model = hfLlava();
      const names = [...model.linearLayers().keys()];
      for (const name of [
        'language_model.model.layers.0.self_attn.q_proj',
        'language_model.lm_head',
        'multi_modal_projector.linear_1',
        'multi_modal_projector.linear_2',
        'vision_tower.vision_model.encoder.layers.0.self_attn.q_proj',
        'vision_tower.vision_model.encoder.layers.1.mlp.fc2',
      ]) {
        expect(names).toContain(name);
      }
      model.dispose();
    });
  });
});
