import {
  CLIP_VIT_L_14_336,
  LLAMA_2_7B,
  LLAVA_1_5_7B,
  MISTRAL_7B_V01,
  type MistralConfig,
  tinyMultimodalConfig,
  validateMistralConfig,
  validateMultimodalConfig,
  validateVisionConfig,
} from './model-config';
import { MultimodalModel } from './multimodal-model';
import { countParameters, countVisionParameters } from './parameter-count';
import { HF_COUNTS } from './reference/hf-reference.values';

// HF_COUNTS: sum(p.numel()) of the transformers modules built from these configs on the meta
// device (hf-reference.py). The issue gives Mistral-7B-v0.1 = 7,241,732,096 and
// Llama-2-7B = 6,738,415,616; CLIP ViT-L/14-336 (303,507,456) and the LLaVA-1.5-7B projector
// (20,979,712) come from the same script.

describe('countParameters', () => {
  it('counts Mistral-7B-v0.1 exactly (7,241,732,096) and refuses it under the default 7e9 budget', () => {
    expect(HF_COUNTS.mistral_7b).toBe(7_241_732_096);
    expect(countParameters(MISTRAL_7B_V01, { budget: 8e9 })).toEqual({ languageModel: 7_241_732_096, visionEncoder: 0, projector: 0, total: 7_241_732_096 });
    expect(() => countParameters(MISTRAL_7B_V01)).toThrow(/7,241,732,096 parameters, over the budget of 7,000,000,000/);
  });

  it('counts Llama-2-7B exactly (6,738,415,616), within the default budget', () => {
    expect(HF_COUNTS.llama2_7b).toBe(6_738_415_616);
    expect(countParameters(LLAMA_2_7B).total).toBe(6_738_415_616);
  });

  it('counts the CLIP ViT-L/14-336 vision tower and the LLaVA-1.5-7B projector as transformers does', () => {
    expect(countVisionParameters(CLIP_VIT_L_14_336)).toBe(HF_COUNTS.clip_vit_l14_336_vision);
    const llava = countParameters(LLAVA_1_5_7B, { budget: 8e9 });
    expect(llava.visionEncoder).toBe(HF_COUNTS.llava15_7b_vision);
    expect(llava.projector).toBe(HF_COUNTS.llava15_7b_projector);
    expect(llava.total).toBe(HF_COUNTS.llava15_7b_total);
    expect(llava.total).toBe(7_063_427_072);
  });

  it('equals the number of weights a built model holds', () => {
    const config = tinyMultimodalConfig({ vocabSize: 50 });
    const model = new MultimodalModel(config, 0);
    const held = [...model.namedWeights().values()].reduce((s, v) => s + v.size, 0);
    expect(countParameters(config).total).toBe(held);
    model.dispose();
  });

  it('leaves out lm_head when the embeddings are tied', () => {
    const tied = countParameters({ ...LLAMA_2_7B, tieWordEmbeddings: true });
    expect(tied.total).toBe(6_738_415_616 - 32000 * 4096);
  });
});

describe('validateMistralConfig', () => {
  it('lists every problem with the valid options', () => {
    const bad: MistralConfig = { ...LLAMA_2_7B, numKeyValueHeads: 5, rmsNormEps: 0, vocabSize: 1.5 };
    expect(() => validateMistralConfig(bad)).toThrow(/vocabSize must be a positive integer, got 1.5[\s\S]*rmsNormEps must be a positive number, got 0/);
    expect(() => validateMistralConfig({ ...LLAMA_2_7B, numKeyValueHeads: 5 })).toThrow(
      /numKeyValueHeads \(5\) must divide numAttentionHeads \(32\); valid: 1, 2, 4, 8, 16, 32/,
    );
    expect(() => validateMistralConfig({ ...LLAMA_2_7B, hiddenSize: 100, numAttentionHeads: 3, numKeyValueHeads: 3 })).toThrow(
      /hiddenSize \(100\) must be divisible by numAttentionHeads \(3\) unless headDim is given; valid head counts: 1, 2, 4, 5, 10, 20, 25, 50/,
    );
    expect(() => validateMistralConfig({ ...LLAMA_2_7B, slidingWindow: -1 })).toThrow(/slidingWindow \(or null\) must be a positive integer, got -1/);
  });
});

describe('validateVisionConfig', () => {
  it('names a patch size that does not tile the image, with the valid ones', () => {
    expect(() => validateVisionConfig({ ...CLIP_VIT_L_14_336, patchSize: 15 })).toThrow(
      /patchSize \(15\) must divide imageSize \(336\); valid: 1, 2, 3, 4, 6, 7, 8, 12, 14, 16, 21/,
    );
  });
});

describe('validateMultimodalConfig', () => {
  it('rejects an image token outside the vocabulary and a feature layer that does not exist', () => {
    expect(() => validateMultimodalConfig({ ...LLAVA_1_5_7B, imageTokenId: 40000, visionFeatureLayer: -30 })).toThrow(
      /imageTokenId must be a token id in \[0, 32064\), got 40000[\s\S]*visionFeatureLayer must be an integer in \[-25, 24\]/,
    );
  });
});

describe('tinyMultimodalConfig', () => {
  it('takes the vocabulary and image token from the tokenizer', () => {
    const config = tinyMultimodalConfig({ vocabSize: 300, imageTokenId: 3 });
    expect(config.text.vocabSize).toBe(300);
    expect(config.imageTokenId).toBe(3);
    expect(config.text.hiddenSize).toBe(64);
    expect(config.text.numKeyValueHeads).toBe(2);
    expect(config.vision.imageSize / config.vision.patchSize).toBe(4);
    const fromTokenizer = tinyMultimodalConfig({ tokenizer: { vocabSize: 260, imageId: 3 } });
    expect([fromTokenizer.text.vocabSize, fromTokenizer.imageTokenId]).toEqual([260, 3]);
  });
});
