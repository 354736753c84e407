import {
  type MistralConfig,
  type MultimodalConfig,
  type VisionConfig,
  numPatches,
  resolvedHeadDim,
  validateMistralConfig,
  validateMultimodalConfig,
} from './model-config';
import { ModelErrorCode, ModelException } from './model.exception';

export interface ParameterCount {
  languageModel: number;
  visionEncoder: number;
  projector: number;
  total: number;
}

/** DESIGN.md: models of at most 7 billion parameters. */
export const DEFAULT_PARAMETER_BUDGET = 7e9;

/** Exactly the tensors of HF MistralForCausalLM / LlamaForCausalLM (no biases; lm_head absent when tied). */
export function countLanguageModelParameters(c: MistralConfig): number {
  const headDim = resolvedHeadDim(c);
  const h = c.hiddenSize;
  const attention = h * c.numAttentionHeads * headDim * 2 + h * c.numKeyValueHeads * headDim * 2;
  const mlp = 3 * h * c.intermediateSize;
  const norms = 2 * h;
  const embed = c.vocabSize * h;
  return embed + c.numHiddenLayers * (attention + mlp + norms) + h + (c.tieWordEmbeddings ? 0 : embed);
}

/**
 * Exactly the tensors of HF CLIPVisionModel (what LLaVA's vision_tower holds): patch conv
 * without bias, class embedding, position embeddings, pre_layrnorm, per layer q/k/v/out
 * with biases, two LayerNorms and fc1/fc2 with biases, and post_layernorm (kept for
 * checkpoint compatibility although LLaVA features skip it).
 */
export function countVisionParameters(v: VisionConfig): number {
  const h = v.hiddenSize;
  const classToken = v.useClassToken ?? true;
  const positions = numPatches(v) + (classToken ? 1 : 0);
  const embeddings = h * v.numChannels * v.patchSize * v.patchSize + (classToken ? h : 0) + positions * h;
  const layer = 4 * (h * h + h) + 2 * (2 * h) + (h * v.intermediateSize + v.intermediateSize) + (v.intermediateSize * h + h);
  return embeddings + 2 * h + v.numHiddenLayers * layer + 2 * h;
}

export function countProjectorParameters(visionHidden: number, textHidden: number): number {
  return visionHidden * textHidden + textHidden + textHidden * textHidden + textHidden;
}

function isMultimodal(config: MistralConfig | MultimodalConfig): config is MultimodalConfig {
  return (config as MultimodalConfig).text !== undefined;
}

/**
 * Parameter count of a text-only or multimodal configuration, checked against a budget
 * (default 7e9): over budget is an error naming each part's share.
 */
export function countParameters(config: MistralConfig | MultimodalConfig, options: { budget?: number } = {}): ParameterCount {
  let count: ParameterCount;
  if (isMultimodal(config)) {
    validateMultimodalConfig(config);
    const languageModel = countLanguageModelParameters(config.text);
    const visionEncoder = countVisionParameters(config.vision);
    const projector = countProjectorParameters(config.vision.hiddenSize, config.text.hiddenSize);
    count = { languageModel, visionEncoder, projector, total: languageModel + visionEncoder + projector };
  } else {
    validateMistralConfig(config);
    const languageModel = countLanguageModelParameters(config);
    count = { languageModel, visionEncoder: 0, projector: 0, total: languageModel };
  }
  const budget = options.budget ?? DEFAULT_PARAMETER_BUDGET;
  if (count.total > budget) {
    throw new ModelException(
      ModelErrorCode.OverParameterBudget,
      `Model has ${count.total.toLocaleString('en-US')} parameters, over the budget of ${budget.toLocaleString('en-US')} ` +
        `(language model ${count.languageModel.toLocaleString('en-US')}, vision encoder ${count.visionEncoder.toLocaleString('en-US')}, ` +
        `projector ${count.projector.toLocaleString('en-US')}); shrink hiddenSize, intermediateSize or numHiddenLayers, or raise the budget`,
    );
  }
  return count;
}
