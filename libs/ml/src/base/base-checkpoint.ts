import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ACTIVATION_NAMES, type ActivationName } from '../layers/activations';
import { Linear } from '../layers/linear';
import { loadHuggingFaceWeights, saveHuggingFaceWeights } from '../model/hf-checkpoint';
import {
  type MistralConfig,
  mistralConfigProblems,
  type MultimodalConfig,
  numPatches,
  resolvedHeadDim,
  validateMultimodalConfig,
  type VisionConfig,
  visionConfigProblems,
} from '../model/model-config';
import { ModelErrorCode, ModelException } from '../model/model.exception';
import { MultimodalModel } from '../model/multimodal-model';
import type { TokenizerLike } from '../model/tokenizer-like';
import { type FloatDtype, INDEX_FILE } from '../safetensors';
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level-bpe.tokenizer';

export const CONFIG_FILE = 'config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const BASE_CHECKPOINT_FORMAT = 'trellis-base-checkpoint/1';

/** text_config of an HF LlavaConfig: a MistralConfig (or LlamaConfig, as LLaVA-1.5 has) under HF key names. */
export interface HfTextConfig {
  model_type: 'mistral' | 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  hidden_act: 'silu';
  /** transformers 4 reads rope_theta, transformers 5 rope_parameters; both are written. */
  rope_theta: number;
  rope_parameters: { rope_type: 'default'; rope_theta: number };
  sliding_window: number | null;
  tie_word_embeddings: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | null;
  pad_token_id?: number | null;
}

/** vision_config of an HF LlavaConfig: a CLIPVisionConfig. */
export interface HfVisionConfig {
  model_type: 'clip_vision_model';
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  layer_norm_eps: number;
  hidden_act: ActivationName;
}

/** config.json of a base checkpoint: an HF LlavaConfig that LlavaForConditionalGeneration.from_pretrained reads. */
export interface HfLlavaConfig {
  architectures: ['LlavaForConditionalGeneration'];
  model_type: 'llava';
  text_config: HfTextConfig;
  vision_config: HfVisionConfig;
  image_token_index: number;
  /** Image tokens per image after the processor expands <image>: the patch count. */
  image_seq_length: number;
  projector_hidden_act: ActivationName;
  multimodal_projector_bias: true;
  vision_feature_layer: number;
  /** 'default' drops the class token, as our model does. */
  vision_feature_select_strategy: 'default';
  tie_word_embeddings: boolean;
  dtype: 'float32' | 'float16' | 'bfloat16';
  /** What has no HF key: a vision tower without a class token (CLIP always has one). */
  trellis: { checkpoint_format: string; vision_use_class_token: boolean };
}

const TORCH_DTYPES: Record<FloatDtype, HfLlavaConfig['dtype']> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export interface HfConfigOptions {
  /** Writes its bos/eos/pad ids into text_config, as HF configs carry them. */
  tokenizer?: TokenizerLike;
  /** The stored weights' precision (config.json "dtype"). Default F32. */
  dtype?: FloatDtype;
}

/** The config.json of a configuration; validated first, so nothing our model would refuse is written. */
export function hfConfigFromMultimodal(config: MultimodalConfig, options: HfConfigOptions = {}): HfLlavaConfig {
  validateMultimodalConfig(config);
  const t = config.text;
  const v = config.vision;
  const tok = options.tokenizer;
  const id = (value: number | undefined) => (value === undefined || value < 0 ? null : value);
  return {
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    text_config: {
      model_type: 'mistral',
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numHiddenLayers,
      num_attention_heads: t.numAttentionHeads,
      num_key_value_heads: t.numKeyValueHeads,
      head_dim: resolvedHeadDim(t),
      max_position_embeddings: t.maxPositionEmbeddings,
      rms_norm_eps: t.rmsNormEps,
      hidden_act: 'silu',
      rope_theta: t.ropeTheta,
      rope_parameters: { rope_type: 'default', rope_theta: t.ropeTheta },
      sliding_window: t.slidingWindow,
      tie_word_embeddings: t.tieWordEmbeddings,
      ...(tok ? { bos_token_id: id(tok.bosId), eos_token_id: id(tok.eosId), pad_token_id: id(tok.padId) } : {}),
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: v.hiddenSize,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numHiddenLayers,
      num_attention_heads: v.numAttentionHeads,
      image_size: v.imageSize,
      patch_size: v.patchSize,
      num_channels: v.numChannels,
      layer_norm_eps: v.layerNormEps,
      hidden_act: v.hiddenAct ?? 'quick_gelu',
    },
    image_token_index: config.imageTokenId,
    image_seq_length: numPatches(v),
    projector_hidden_act: config.projector.hiddenAct ?? 'gelu',
    multimodal_projector_bias: true,
    vision_feature_layer: config.visionFeatureLayer,
    vision_feature_select_strategy: 'default',
    tie_word_embeddings: t.tieWordEmbeddings,
    dtype: TORCH_DTYPES[options.dtype ?? 'F32'],
    trellis: { checkpoint_format: BASE_CHECKPOINT_FORMAT, vision_use_class_token: v.useClassToken ?? true },
  };
}

interface Problem {
  field: string;
  message: string;
}

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown) => (x === undefined ? 'nothing' : JSON.stringify(x));
/** Our config fields whose HF key is their snake_case (all of them). */
const CAMEL_FIELDS = [
  'vocabSize',
  'hiddenSize',
  'intermediateSize',
  'numHiddenLayers',
  'numAttentionHeads',
  'numKeyValueHeads',
  'headDim',
  'maxPositionEmbeddings',
  'rmsNormEps',
  'ropeTheta',
  'slidingWindow',
  'tieWordEmbeddings',
  'imageSize',
  'patchSize',
  'numChannels',
  'layerNormEps',
  'hiddenAct',
];
const CAMEL_FIELD = new RegExp(`\\b(${CAMEL_FIELDS.join('|')})\\b`, 'g');
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The model-config validators name fields in camelCase under an owner; a config.json reader
 * should name the key that was written, the snake_case of the same name. Only known field
 * names are renamed, so a value quoted in a message stays as it was written.
 */
function fromValidator(problems: string[]): Problem[] {
  return problems.map((p) => {
    const message = p.replace(CAMEL_FIELD, snake);
    const field = /^([a-z_]+(?:\.[a-z_]+)?)/.exec(message)![1];
    return { field, message };
  });
}

/** A key HF would fill with a default when absent: absent is fine, anything else must equal it. */
function expectIfPresent(problems: Problem[], owner: Json, field: string, key: string, allowed: readonly unknown[]): void {
  const value = owner[key];
  if (value !== undefined && !allowed.includes(value)) {
    problems.push({ field, message: `${field} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${show(value)}` });
  }
}

function textFromHf(raw: Json, topTie: unknown, problems: Problem[]): MistralConfig {
  if (raw.model_type !== 'mistral' && raw.model_type !== 'llama') {
    problems.push({ field: 'text_config.model_type', message: `text_config.model_type must be "mistral" or "llama", got ${show(raw.model_type)}` });
  }
  expectIfPresent(problems, raw, 'text_config.hidden_act', 'hidden_act', ['silu']);
  // Llama's optional biases: our decoder has none, so a checkpoint with them cannot load.
  expectIfPresent(problems, raw, 'text_config.attention_bias', 'attention_bias', [false]);
  expectIfPresent(problems, raw, 'text_config.mlp_bias', 'mlp_bias', [false]);
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) {
    problems.push({ field: 'text_config.rope_scaling', message: `text_config.rope_scaling must be null (no RoPE scaling), got ${show(raw.rope_scaling)}` });
  }
  let ropeTheta = raw.rope_theta;
  const params = raw.rope_parameters;
  if (params !== undefined && params !== null) {
    if (!isObject(params)) {
      problems.push({ field: 'text_config.rope_parameters', message: `text_config.rope_parameters must be an object, got ${show(params)}` });
    } else {
      expectIfPresent(problems, params, 'text_config.rope_parameters.rope_type', 'rope_type', ['default']);
      if (ropeTheta !== undefined && params.rope_theta !== undefined && params.rope_theta !== ropeTheta) {
        problems.push({
          field: 'text_config.rope_parameters.rope_theta',
          message: `text_config.rope_parameters.rope_theta (${show(params.rope_theta)}) and text_config.rope_theta (${show(ropeTheta)}) disagree`,
        });
      }
      ropeTheta ??= params.rope_theta;
    }
  }
  let tie = raw.tie_word_embeddings ?? topTie;
  if (topTie !== undefined && raw.tie_word_embeddings !== undefined && topTie !== raw.tie_word_embeddings) {
    problems.push({
      field: 'tie_word_embeddings',
      message: `tie_word_embeddings (${show(topTie)}) and text_config.tie_word_embeddings (${show(raw.tie_word_embeddings)}) disagree`,
    });
    tie = raw.tie_word_embeddings;
  }
  const text = {
    vocabSize: raw.vocab_size,
    hiddenSize: raw.hidden_size,
    intermediateSize: raw.intermediate_size,
    numHiddenLayers: raw.num_hidden_layers,
    numAttentionHeads: raw.num_attention_heads,
    numKeyValueHeads: raw.num_key_value_heads,
    maxPositionEmbeddings: raw.max_position_embeddings,
    rmsNormEps: raw.rms_norm_eps,
    ropeTheta,
    // Llama has no sliding window; a Mistral config without the key would get HF's default of 4096, so it must say.
    slidingWindow: raw.model_type === 'llama' ? (raw.sliding_window ?? null) : raw.sliding_window,
    tieWordEmbeddings: tie,
  } as MistralConfig;
  // head_dim that only restates hidden_size / num_attention_heads is left implicit, so that
  // hfConfigFromMultimodal and this are inverses on configs that do not set headDim.
  const headDim = raw.head_dim;
  const implied = typeof raw.hidden_size === 'number' && typeof raw.num_attention_heads === 'number' ? raw.hidden_size / raw.num_attention_heads : NaN;
  if (headDim !== undefined && headDim !== null && headDim !== implied) text.headDim = headDim as number;
  problems.push(...fromValidator(mistralConfigProblems(text, 'text_config')));
  return text;
}

function visionFromHf(raw: Json, useClassToken: boolean, problems: Problem[]): VisionConfig {
  expectIfPresent(problems, raw, 'vision_config.model_type', 'model_type', ['clip_vision_model']);
  const vision = {
    imageSize: raw.image_size,
    patchSize: raw.patch_size,
    numChannels: raw.num_channels,
    hiddenSize: raw.hidden_size,
    intermediateSize: raw.intermediate_size,
    numHiddenLayers: raw.num_hidden_layers,
    numAttentionHeads: raw.num_attention_heads,
    layerNormEps: raw.layer_norm_eps,
    useClassToken,
    hiddenAct: raw.hidden_act,
  } as VisionConfig;
  problems.push(...fromValidator(visionConfigProblems(vision, 'vision_config')));
  return vision;
}

/**
 * Reads an HF LlavaConfig (parsed config.json) into our MultimodalConfig, listing every problem
 * in one MODEL_INVALID_CONFIG whose fields are the config.json key paths. Keys HF fills with a
 * default when absent (hidden_act, vision_feature_select_strategy, ...) may be absent; the sizes
 * and token ids must be given, since HF's defaults for them describe a 7B model.
 * image_seq_length is not checked: LlavaConfig saves its default 576 whatever the vision tower,
 * and the model never reads it.
 */
export function multimodalFromHfConfig(json: unknown, source = CONFIG_FILE): MultimodalConfig {
  const fail = (problems: Problem[]) => {
    throw new ModelException(ModelErrorCode.InvalidConfig, `Invalid ${source}:\n  - ${problems.map((p) => p.message).join('\n  - ')}`, [
      ...new Set(problems.map((p) => p.field)),
    ]);
  };
  if (!isObject(json)) return fail([{ field: CONFIG_FILE, message: `${source} must hold a JSON object, got ${show(json)}` }]);
  const problems: Problem[] = [];
  if (json.model_type !== 'llava') problems.push({ field: 'model_type', message: `model_type must be "llava", got ${show(json.model_type)}` });
  const trellis = json.trellis;
  let useClassToken = true;
  if (trellis !== undefined) {
    if (!isObject(trellis)) problems.push({ field: 'trellis', message: `trellis must be an object, got ${show(trellis)}` });
    else {
      expectIfPresent(problems, trellis, 'trellis.checkpoint_format', 'checkpoint_format', [BASE_CHECKPOINT_FORMAT]);
      expectIfPresent(problems, trellis, 'trellis.vision_use_class_token', 'vision_use_class_token', [true, false]);
      useClassToken = trellis.vision_use_class_token !== false;
    }
  }
  const sections: { text?: MistralConfig; vision?: VisionConfig } = {};
  for (const key of ['text_config', 'vision_config'] as const) {
    const raw = json[key];
    if (!isObject(raw)) problems.push({ field: key, message: `${key} must be an object, got ${show(raw)}` });
    else if (key === 'text_config') sections.text = textFromHf(raw, json.tie_word_embeddings, problems);
    else sections.vision = visionFromHf(raw, useClassToken, problems);
  }
  const act = json.projector_hidden_act ?? 'gelu';
  if (!ACTIVATION_NAMES.includes(act as ActivationName)) {
    problems.push({ field: 'projector_hidden_act', message: `projector_hidden_act ${show(act)} is unknown; valid: ${ACTIVATION_NAMES.join(', ')}` });
  }
  expectIfPresent(problems, json, 'multimodal_projector_bias', 'multimodal_projector_bias', [true]);
  expectIfPresent(problems, json, 'vision_feature_select_strategy', 'vision_feature_select_strategy', ['default']);
  const text = sections.text;
  const vision = sections.vision;
  const vocab = text && Number.isInteger(text.vocabSize) && text.vocabSize > 0 ? text.vocabSize : null;
  const imageToken = json.image_token_index;
  if (!Number.isInteger(imageToken) || (imageToken as number) < 0 || (vocab !== null && (imageToken as number) >= vocab)) {
    problems.push({
      field: 'image_token_index',
      message: `image_token_index must be a token id in [0, ${vocab ?? 'text_config.vocab_size'}), got ${show(imageToken)}`,
    });
  }
  const layers = vision && Number.isInteger(vision.numHiddenLayers) && vision.numHiddenLayers > 0 ? vision.numHiddenLayers : null;
  const featureLayer = json.vision_feature_layer;
  if (!Number.isInteger(featureLayer) || (layers !== null && ((featureLayer as number) < -(layers + 1) || (featureLayer as number) > layers))) {
    const range = layers === null ? 'an index into the vision hidden states' : `in [${-(layers + 1)}, ${layers}]`;
    problems.push({ field: 'vision_feature_layer', message: `vision_feature_layer must be one integer ${range}, got ${show(featureLayer)}` });
  }
  if (problems.length > 0) fail(problems);
  const config: MultimodalConfig = {
    text: text!,
    vision: vision!,
    projector: { hiddenAct: act as ActivationName },
    imageTokenId: imageToken as number,
    visionFeatureLayer: featureLayer as number,
  };
  // Any rule model-config gains later still holds here, even before this reader names its field.
  validateMultimodalConfig(config);
  return config;
}

/** Every way the tokenizer and the config disagree, named by config.json key. */
function tokenizerProblems(config: MultimodalConfig, tokenizer: TokenizerLike, hf?: Json): Problem[] {
  const problems: Problem[] = [];
  if (tokenizer.vocabSize !== config.text.vocabSize) {
    problems.push({
      field: 'text_config.vocab_size',
      message: `${TOKENIZER_FILE} has ${tokenizer.vocabSize} tokens but text_config.vocab_size is ${config.text.vocabSize}`,
    });
  }
  if (tokenizer.imageId !== config.imageTokenId) {
    const has = tokenizer.imageId < 0 ? 'has no <image> token' : `has <image> as id ${tokenizer.imageId}`;
    problems.push({ field: 'image_token_index', message: `${TOKENIZER_FILE} ${has} but image_token_index is ${config.imageTokenId}` });
  }
  const text = hf && isObject(hf.text_config) ? hf.text_config : {};
  for (const [key, id] of [
    ['bos_token_id', tokenizer.bosId],
    ['eos_token_id', tokenizer.eosId],
    ['pad_token_id', tokenizer.padId],
  ] as const) {
    const value = text[key];
    if (value !== undefined && value !== null && id >= 0 && value !== id) {
      problems.push({ field: `text_config.${key}`, message: `text_config.${key} is ${show(value)} but ${TOKENIZER_FILE} has it as ${id}` });
    }
  }
  return problems;
}

function refuse(what: string, problems: Problem[]): void {
  if (problems.length === 0) return;
  throw new ModelException(ModelErrorCode.InvalidConfig, `${what}:\n  - ${problems.map((p) => p.message).join('\n  - ')}`, [
    ...new Set(problems.map((p) => p.field)),
  ]);
}

/** JSON with keys sorted at every level, as HF writes config.json (sort_keys=True, indent 2). */
function sortedJson(value: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : isObject(x)
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sort(x[k])]),
          )
        : x;
  return JSON.stringify(sort(value), null, 2) + '\n';
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

export interface BaseCheckpoint {
  model: MultimodalModel;
  config: MultimodalConfig;
  tokenizer: ByteLevelBpeTokenizer;
}

export interface WriteBaseCheckpointOptions {
  /** Shard the weights above this many bytes (model-0000i-of-0000n.safetensors + index). Default: one file. */
  maxShardBytes?: number;
  /** Stored precision of the weights. Default F32. */
  dtype?: FloatDtype;
}

export interface CheckpointFile {
  name: string;
  sha256: string;
  size: number;
}

const WEIGHT_FILE = /^model(-\d{5}-of-\d{5})?\.safetensors$/;

/**
 * Writes a Hugging Face-layout base checkpoint into dir: the weights under llava-hf names
 * (model.safetensors, or shards + index), config.json (an HF LlavaConfig) and tokenizer.json.
 * The model, config and tokenizer are checked against each other first, so what is written
 * is something readBaseCheckpoint accepts. Returns the files with their SHA-256 and size,
 * sorted by name.
 */
export async function writeBaseCheckpoint(
  dir: string,
  checkpoint: { model: MultimodalModel; config: MultimodalConfig; tokenizer: ByteLevelBpeTokenizer },
  options: WriteBaseCheckpointOptions = {},
): Promise<{ files: CheckpointFile[] }> {
  const { model, config, tokenizer } = checkpoint;
  const hf = hfConfigFromMultimodal(config, { tokenizer, dtype: options.dtype });
  const problems = tokenizerProblems(config, tokenizer);
  if (sortedJson(hfConfigFromMultimodal(model.config)) !== sortedJson(hfConfigFromMultimodal(config))) {
    problems.push({ field: 'config', message: 'the model was built from another configuration than the one given' });
  }
  // A LoRA or NF4 wrapper would be saved under its own tensor names (base_layer, lora_A, ...),
  // which no base checkpoint reader expects; adapters are saved apart, in the PEFT layout.
  for (const [name, layer] of model.linearLayers()) {
    if (!(layer instanceof Linear)) {
      problems.push({
        field: name,
        message: `${name} is a ${layer.constructor.name}, not a plain linear layer; merge or remove adapters and quantization first`,
      });
    }
  }
  refuse(`Cannot write a base checkpoint to ${dir}`, problems);
  await fs.mkdir(dir, { recursive: true });
  // Weights of an earlier checkpoint in the same folder would be read together with (or, for an
  // index left behind, instead of) these.
  for (const name of await fs.readdir(dir)) {
    if (WEIGHT_FILE.test(name) || name === INDEX_FILE) await fs.rm(path.join(dir, name));
  }
  const weights = await saveHuggingFaceWeights(model, dir, { maxShardBytes: options.maxShardBytes, dtype: options.dtype });
  await writeAtomically(path.join(dir, CONFIG_FILE), sortedJson(hf));
  await writeAtomically(path.join(dir, TOKENIZER_FILE), JSON.stringify(tokenizer.toJSON(), null, 2) + '\n');
  const names = [...weights, ...(options.maxShardBytes !== undefined ? [INDEX_FILE] : []), CONFIG_FILE, TOKENIZER_FILE].sort();
  const files: CheckpointFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    files.push({ name, sha256: await sha256(file), size: (await fs.stat(file)).size });
  }
  return { files };
}

async function readJson(file: string, name: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(err as Error).message})`;
    throw new ModelException(ModelErrorCode.InvalidConfig, `base checkpoint ${path.dirname(file)}: ${name} ${reason}`, [name]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelException(ModelErrorCode.InvalidConfig, `base checkpoint ${path.dirname(file)}: ${name} is not JSON: ${(err as Error).message}`, [name]);
  }
}

/**
 * Reads a base checkpoint: config.json is validated (every problem listed, by key), the
 * tokenizer must fit it (vocabulary size, <image> and special token ids), and the weights are
 * loaded by loadHuggingFaceWeights, which refuses a missing, unexpected or wrong-shaped tensor
 * by name with SAFETENSORS_CHECKPOINT_MISMATCH before anything is assigned. On any failure no
 * tensor is left allocated.
 */
export async function readBaseCheckpoint(dir: string): Promise<BaseCheckpoint> {
  const hf = await readJson(path.join(dir, CONFIG_FILE), CONFIG_FILE);
  const config = multimodalFromHfConfig(hf, `${path.join(dir, CONFIG_FILE)}`);
  const tokenizer = ByteLevelBpeTokenizer.fromJSON((await readJson(path.join(dir, TOKENIZER_FILE), TOKENIZER_FILE)) as object);
  refuse(`base checkpoint ${dir}: ${TOKENIZER_FILE} does not fit ${CONFIG_FILE}`, tokenizerProblems(config, tokenizer, hf as Json));
  const model = new MultimodalModel(config);
  try {
    await loadHuggingFaceWeights(model, dir);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, config, tokenizer };
}
