import { ACTIVATION_NAMES, type ActivationName } from '../layers/activations';
import { ModelErrorCode, ModelException } from './model.exception';

/** Hugging Face MistralConfig / LlamaConfig fields we use, camelCased. */
export interface MistralConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Defaults to hiddenSize / numAttentionHeads. */
  headDim?: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Mistral attends to at most this many positions (itself included); null = full causal. */
  slidingWindow: number | null;
  tieWordEmbeddings: boolean;
}

/** CLIP-style ViT vision tower. */
export interface VisionConfig {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  layerNormEps: number;
  /** CLIP prepends a class token; LLaVA drops it from the features. Default true. */
  useClassToken?: boolean;
  /** CLIP ViT-L/14 uses quick_gelu. Default 'quick_gelu'. */
  hiddenAct?: ActivationName;
}

/** LLaVA-1.5 projector: linear_1 (vision hidden -> text hidden), GELU, linear_2 (text hidden -> text hidden). */
export interface ProjectorConfig {
  /** LLaVA-1.5 uses exact GELU (nn.GELU()). Default 'gelu'. */
  hiddenAct?: ActivationName;
}

export interface MultimodalConfig {
  text: MistralConfig;
  vision: VisionConfig;
  projector: ProjectorConfig;
  /** Token id of the single `<image>` placeholder in inputIds. */
  imageTokenId: number;
  /**
   * Which vision hidden state feeds the projector, Python-style index into
   * [embeddings, layer 1 output, ..., layer N output]; LLaVA-1.5 uses -2.
   */
  visionFeatureLayer: number;
}

export function resolvedHeadDim(config: MistralConfig): number {
  return config.headDim ?? config.hiddenSize / config.numAttentionHeads;
}

export function numPatches(vision: VisionConfig): number {
  return (vision.imageSize / vision.patchSize) ** 2;
}

type Problem = string;

function positiveInt(problems: Problem[], owner: string, field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    problems.push(`${owner}.${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
}

function positiveNumber(problems: Problem[], owner: string, field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    problems.push(`${owner}.${field} must be a positive number, got ${JSON.stringify(value)}`);
  }
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

function raise(kind: string, problems: Problem[]): void {
  if (problems.length > 0) throw new ModelException(ModelErrorCode.InvalidConfig, `Invalid ${kind}:\n  - ${problems.join('\n  - ')}`);
}

export function mistralConfigProblems(config: MistralConfig, owner = 'MistralConfig'): Problem[] {
  const p: Problem[] = [];
  for (const f of [
    'vocabSize',
    'hiddenSize',
    'intermediateSize',
    'numHiddenLayers',
    'numAttentionHeads',
    'numKeyValueHeads',
    'maxPositionEmbeddings',
  ] as const) {
    positiveInt(p, owner, f, config[f]);
  }
  positiveNumber(p, owner, 'rmsNormEps', config.rmsNormEps);
  positiveNumber(p, owner, 'ropeTheta', config.ropeTheta);
  if (config.slidingWindow !== null) positiveInt(p, owner, 'slidingWindow (or null)', config.slidingWindow);
  if (typeof config.tieWordEmbeddings !== 'boolean')
    p.push(`${owner}.tieWordEmbeddings must be true or false, got ${JSON.stringify(config.tieWordEmbeddings)}`);
  if (p.length > 0) return p;
  if (config.numAttentionHeads % config.numKeyValueHeads !== 0) {
    p.push(
      `${owner}.numKeyValueHeads (${config.numKeyValueHeads}) must divide numAttentionHeads (${config.numAttentionHeads}); valid: ${divisors(config.numAttentionHeads).join(', ')}`,
    );
  }
  if (config.headDim === undefined) {
    if (config.hiddenSize % config.numAttentionHeads !== 0) {
      const valid = divisors(config.hiddenSize).filter((d) => d <= 64);
      p.push(
        `${owner}.hiddenSize (${config.hiddenSize}) must be divisible by numAttentionHeads (${config.numAttentionHeads}) unless headDim is given; valid head counts: ${valid.join(', ')}${valid.length < divisors(config.hiddenSize).length ? ', ...' : ''}`,
      );
    } else if ((config.hiddenSize / config.numAttentionHeads) % 2 !== 0) {
      p.push(`${owner}: head dimension hiddenSize/numAttentionHeads = ${config.hiddenSize / config.numAttentionHeads} must be even for rotary embeddings`);
    }
  } else {
    positiveInt(p, owner, 'headDim', config.headDim);
    if (Number.isInteger(config.headDim) && config.headDim % 2 !== 0) p.push(`${owner}.headDim (${config.headDim}) must be even for rotary embeddings`);
  }
  return p;
}

export function validateMistralConfig(config: MistralConfig): void {
  raise('MistralConfig', mistralConfigProblems(config));
}

export function visionConfigProblems(config: VisionConfig, owner = 'VisionConfig'): Problem[] {
  const p: Problem[] = [];
  for (const f of ['imageSize', 'patchSize', 'numChannels', 'hiddenSize', 'intermediateSize', 'numHiddenLayers', 'numAttentionHeads'] as const) {
    positiveInt(p, owner, f, config[f]);
  }
  positiveNumber(p, owner, 'layerNormEps', config.layerNormEps);
  if (config.hiddenAct !== undefined && !ACTIVATION_NAMES.includes(config.hiddenAct)) {
    p.push(`${owner}.hiddenAct '${config.hiddenAct}' is unknown; valid: ${ACTIVATION_NAMES.join(', ')}`);
  }
  if (p.length > 0) return p;
  if (config.imageSize % config.patchSize !== 0) {
    p.push(`${owner}.patchSize (${config.patchSize}) must divide imageSize (${config.imageSize}); valid: ${divisors(config.imageSize).join(', ')}`);
  }
  if (config.hiddenSize % config.numAttentionHeads !== 0) {
    p.push(
      `${owner}.numAttentionHeads (${config.numAttentionHeads}) must divide hiddenSize (${config.hiddenSize}); valid: ${divisors(config.hiddenSize)
        .filter((d) => d <= 64)
        .join(', ')}`,
    );
  }
  return p;
}

export function validateVisionConfig(config: VisionConfig): void {
  raise('VisionConfig', visionConfigProblems(config));
}

export function validateMultimodalConfig(config: MultimodalConfig): void {
  const p = [...mistralConfigProblems(config.text, 'MultimodalConfig.text'), ...visionConfigProblems(config.vision, 'MultimodalConfig.vision')];
  const act = config.projector?.hiddenAct;
  if (act !== undefined && !ACTIVATION_NAMES.includes(act)) {
    p.push(`MultimodalConfig.projector.hiddenAct '${act}' is unknown; valid: ${ACTIVATION_NAMES.join(', ')}`);
  }
  const id = config.imageTokenId;
  if (!Number.isInteger(id) || id < 0 || (Number.isInteger(config.text.vocabSize) && id >= config.text.vocabSize)) {
    p.push(`MultimodalConfig.imageTokenId must be a token id in [0, ${config.text.vocabSize}), got ${JSON.stringify(id)}`);
  }
  const n = config.vision.numHiddenLayers;
  const layer = config.visionFeatureLayer;
  if (!Number.isInteger(layer) || layer < -(n + 1) || layer > n) {
    p.push(
      `MultimodalConfig.visionFeatureLayer must be an integer in [${-(n + 1)}, ${n}] (index into the ${n + 1} vision hidden states), got ${JSON.stringify(layer)}`,
    );
  }
  raise('MultimodalConfig', p);
}

/** Mistral-7B-v0.1 (config.json on the Hugging Face Hub, mistralai/Mistral-7B-v0.1). */
export const MISTRAL_7B_V01: MistralConfig = {
  vocabSize: 32000,
  hiddenSize: 4096,
  intermediateSize: 14336,
  numHiddenLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  maxPositionEmbeddings: 32768,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  slidingWindow: 4096,
  tieWordEmbeddings: false,
};

/** Llama-2-7B (meta-llama/Llama-2-7b-hf config.json). */
export const LLAMA_2_7B: MistralConfig = {
  vocabSize: 32000,
  hiddenSize: 4096,
  intermediateSize: 11008,
  numHiddenLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 32,
  maxPositionEmbeddings: 4096,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  slidingWindow: null,
  tieWordEmbeddings: false,
};

/** CLIP ViT-L/14 at 336 px (openai/clip-vit-large-patch14-336 vision_config), the LLaVA-1.5 vision tower. */
export const CLIP_VIT_L_14_336: VisionConfig = {
  imageSize: 336,
  patchSize: 14,
  numChannels: 3,
  hiddenSize: 1024,
  intermediateSize: 4096,
  numHiddenLayers: 24,
  numAttentionHeads: 16,
  layerNormEps: 1e-5,
  useClassToken: true,
  hiddenAct: 'quick_gelu',
};

/** LLaVA-1.5-7B: CLIP ViT-L/14-336 + GELU projector + a Llama-2-7B-shaped (Vicuna) decoder. */
export const LLAVA_1_5_7B: MultimodalConfig = {
  text: { ...LLAMA_2_7B, vocabSize: 32064 },
  vision: CLIP_VIT_L_14_336,
  projector: { hiddenAct: 'gelu' },
  imageTokenId: 32000,
  visionFeatureLayer: -2,
};

export interface TinyMultimodalOverrides {
  /** Takes vocabSize and imageTokenId from the tokenizer (explicit values win). */
  tokenizer?: { vocabSize: number; imageId: number };
  vocabSize?: number;
  imageTokenId?: number;
  text?: Partial<MistralConfig>;
  vision?: Partial<VisionConfig>;
  projector?: Partial<ProjectorConfig>;
  visionFeatureLayer?: number;
}

/**
 * A model small enough that a training step takes well under a second on the CPU backend:
 * hidden 64, 2 decoder layers, 4 heads / 2 KV heads, 32×32 images in 8×8 patches (16 image tokens).
 * Pass the tokenizer's vocabSize and imageId.
 */
export function tinyMultimodalConfig(overrides: TinyMultimodalOverrides = {}): MultimodalConfig {
  const vocabSize = overrides.vocabSize ?? overrides.tokenizer?.vocabSize ?? 512;
  const config: MultimodalConfig = {
    text: {
      vocabSize,
      hiddenSize: 64,
      intermediateSize: 128,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      maxPositionEmbeddings: 256,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      slidingWindow: null,
      tieWordEmbeddings: false,
      ...overrides.text,
    },
    vision: {
      imageSize: 32,
      patchSize: 8,
      numChannels: 3,
      hiddenSize: 32,
      intermediateSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      layerNormEps: 1e-5,
      useClassToken: true,
      hiddenAct: 'quick_gelu',
      ...overrides.vision,
    },
    projector: { hiddenAct: 'gelu', ...overrides.projector },
    imageTokenId: overrides.imageTokenId ?? overrides.tokenizer?.imageId ?? vocabSize - 1,
    visionFeatureLayer: overrides.visionFeatureLayer ?? -2,
  };
  config.text.vocabSize = vocabSize;
  validateMultimodalConfig(config);
  return config;
}
