import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectException, expectRejection } from '../expect-exception.fixture';
import { applyLora } from '../lora/lora-adapters';
import { LLAVA_1_5_7B, type MultimodalConfig, tinyMultimodalConfig } from '../model/model-config';
import { ModelErrorCode, ModelException } from '../model/model.exception';
import { MultimodalModel } from '../model/multimodal-model';
import { maxAbsDiff } from '../model/reference/reference-fixtures';
import { INDEX_FILE, parseSafetensors, SafetensorsErrorCode, SafetensorsException, writeSafetensors } from '../safetensors';
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level-bpe.tokenizer';
import { collateSft, syntheticSftData } from '../train/multimodal-sft';
import { hfConfigFromMultimodal, multimodalFromHfConfig, readBaseCheckpoint, writeBaseCheckpoint } from './base-checkpoint';

const data = syntheticSftData({ seed: 2, subjects: 3, itemsPerSubject: 1 });

/** A small untrained model with the synthetic tokenizer: what a base checkpoint holds, built fast. */
function parts(seed = 1): { model: MultimodalModel; config: MultimodalConfig; tokenizer: ByteLevelBpeTokenizer } {
  const config = tinyMultimodalConfig({ tokenizer: data.tokenizer });
  return { model: new MultimodalModel(config, seed), config, tokenizer: data.tokenizer };
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trellis-base-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const readConfig = async () => JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const writeConfig = (json: unknown) => fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(json));

/** config.json as transformers 5.24.0 LlavaConfig.save_pretrained wrote it for the tiny shape (vocab 320, image token 3). */
const TRANSFORMERS_5_CONFIG = {
  image_seq_length: 576,
  image_token_index: 3,
  model_type: 'llava',
  multimodal_projector_bias: true,
  projector_hidden_act: 'gelu',
  text_config: {
    attention_dropout: 0.0,
    bos_token_id: 1,
    eos_token_id: 2,
    head_dim: 16,
    hidden_act: 'silu',
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 128,
    max_position_embeddings: 256,
    model_type: 'mistral',
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    pad_token_id: null,
    rms_norm_eps: 1e-5,
    rope_parameters: { rope_theta: 10000.0, rope_type: 'default' },
    sliding_window: null,
    tie_word_embeddings: false,
    use_cache: true,
    vocab_size: 320,
  },
  tie_word_embeddings: false,
  transformers_version: '5.24.0',
  vision_config: {
    attention_dropout: 0.0,
    hidden_act: 'quick_gelu',
    hidden_size: 32,
    image_size: 32,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: 64,
    layer_norm_eps: 1e-5,
    model_type: 'clip_vision_model',
    num_attention_heads: 4,
    num_channels: 3,
    num_hidden_layers: 2,
    patch_size: 8,
    projection_dim: 512,
  },
  vision_feature_layer: -2,
  vision_feature_select_strategy: 'default',
};

describe('multimodalFromHfConfig', () => {
  it('inverts hfConfigFromMultimodal, for the tiny preset and LLaVA-1.5-7B', () => {
    for (const config of [tinyMultimodalConfig({ vocabSize: 320, imageTokenId: 3 }), LLAVA_1_5_7B]) {
      const json = JSON.parse(JSON.stringify(hfConfigFromMultimodal(config)));
      expect(multimodalFromHfConfig(json)).toEqual({ ...config, vision: { useClassToken: true, ...config.vision } });
    }
  });

  it('keeps what has no Hugging Face key in the trellis section', () => {
    const config = tinyMultimodalConfig({ vocabSize: 320, imageTokenId: 3, vision: { useClassToken: false }, text: { headDim: 8 } });
    const json = JSON.parse(JSON.stringify(hfConfigFromMultimodal(config)));
    expect(json.trellis.vision_use_class_token).toBe(false);
    expect(multimodalFromHfConfig(json)).toEqual(config);
  });

  it('reads the config.json transformers 5 writes (rope_parameters, no trellis section, HF extras)', () => {
    const config = multimodalFromHfConfig(TRANSFORMERS_5_CONFIG);
    expect(config).toEqual(tinyMultimodalConfig({ vocabSize: 320, imageTokenId: 3, vision: { useClassToken: true } }));
  });

  it('lists every bad field, each named by its config.json key', () => {
    const json = structuredClone(TRANSFORMERS_5_CONFIG) as Record<string, unknown> & typeof TRANSFORMERS_5_CONFIG;
    json.model_type = 'clip' as 'llava';
    (json.text_config as Record<string, unknown>).hidden_size = '64';
    json.text_config.num_key_value_heads = 3;
    (json.text_config.rope_parameters as Record<string, unknown>).rope_type = 'linear';
    json.vision_config.patch_size = 7;
    (json.vision_config as Record<string, unknown>).hidden_act = 'relu';
    json.image_token_index = 320;
    json.vision_feature_layer = 3;
    json.vision_feature_select_strategy = 'full';
    json.projector_hidden_act = 'geluX';
    const error = expectException(() => multimodalFromHfConfig(json), ModelException, ModelErrorCode.InvalidConfig);
    expect(error.fields).toEqual([
      'model_type',
      'text_config.rope_parameters.rope_type',
      'text_config.hidden_size',
      'vision_config.hidden_act',
      'projector_hidden_act',
      'vision_feature_select_strategy',
      'image_token_index',
      'vision_feature_layer',
    ]);
    expect(error.message).toContain('text_config.hidden_size must be a positive integer, got "64"');
    expect(error.message).toContain("vision_config.hidden_act 'relu' is unknown; valid: silu, gelu, gelu_tanh, quick_gelu");
    expect(error.message).toContain('projector_hidden_act "geluX" is unknown');
    expect(error.message).toContain('image_token_index must be a token id in [0, 320), got 320');
    expect(error.message).toContain('vision_feature_layer must be one integer in [-3, 2], got 3');
    expect(error.errorClass).toBe('validation');
  });

  it('checks the relations between sizes once the sizes themselves are valid', () => {
    const json = structuredClone(TRANSFORMERS_5_CONFIG);
    json.text_config.num_key_value_heads = 3;
    json.vision_config.patch_size = 7;
    const error = expectException(() => multimodalFromHfConfig(json), ModelException, ModelErrorCode.InvalidConfig);
    expect(error.fields).toEqual(['text_config.num_key_value_heads', 'vision_config.patch_size']);
    expect(error.message).toContain('text_config.num_key_value_heads (3) must divide num_attention_heads (4); valid: 1, 2, 4');
    expect(error.message).toContain('vision_config.patch_size (7) must divide image_size (32)');
  });

  it('names a missing section or size', () => {
    const { vision_config: _, ...json } = structuredClone(TRANSFORMERS_5_CONFIG);
    delete (json.text_config as Record<string, unknown>).rms_norm_eps;
    const error = expectException(() => multimodalFromHfConfig(json), ModelException, ModelErrorCode.InvalidConfig);
    expect(error.fields).toEqual(['text_config.rms_norm_eps', 'vision_config']);
    expect(error.message).toContain('vision_config must be an object, got nothing');
  });
});

describe('writeBaseCheckpoint', () => {
  it('writes the weights, config.json and tokenizer.json, reporting each file’s SHA-256 and size', async () => {
    const { model, config, tokenizer } = parts();
    const { files } = await writeBaseCheckpoint(dir, { model, config, tokenizer });
    expect(files.map((f) => f.name)).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    for (const f of files) {
      const bytes = await fs.readFile(path.join(dir, f.name));
      expect(f.size).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    const json = await readConfig();
    expect(json.model_type).toBe('llava');
    expect(json.text_config.vocab_size).toBe(tokenizer.vocabSize);
    expect(json.image_token_index).toBe(tokenizer.imageId);
    expect(json.text_config.bos_token_id).toBe(tokenizer.bosId);
    const weights = parseSafetensors(await fs.readFile(path.join(dir, 'model.safetensors')));
    expect(Object.keys(weights.tensors).sort()).toEqual([...model.namedWeights().keys()].sort());
    expect(ByteLevelBpeTokenizer.fromJSON(await fs.readFile(path.join(dir, 'tokenizer.json'), 'utf8')).toJSON()).toEqual(tokenizer.toJSON());
    model.dispose();
  });

  it('shards when asked, and leaves no weight file of an earlier checkpoint in the folder', async () => {
    const { model, config, tokenizer } = parts();
    const sharded = await writeBaseCheckpoint(dir, { model, config, tokenizer }, { maxShardBytes: 128 * 1024 });
    expect(sharded.files.map((f) => f.name)).toContain(INDEX_FILE);
    expect(sharded.files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f.name)).length).toBeGreaterThan(1);
    const back = await readBaseCheckpoint(dir);
    back.model.dispose();
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    model.dispose();
  });

  it('refuses a tokenizer, configuration or adapted layer that does not belong in a base checkpoint, writing nothing', async () => {
    const { model, config } = parts();
    const other = ByteLevelBpeTokenizer.train(['USER: ASSISTANT: a circle'], { vocabSize: 280 });
    const error = await expectRejection(writeBaseCheckpoint(dir, { model, config, tokenizer: other }), ModelException, ModelErrorCode.InvalidConfig);
    expect(error.fields).toEqual(['text_config.vocab_size']);
    const wider = tinyMultimodalConfig({ tokenizer: data.tokenizer, text: { intermediateSize: 96 } });
    const mismatch = await expectRejection(
      writeBaseCheckpoint(dir, { model, config: wider, tokenizer: data.tokenizer }),
      ModelException,
      ModelErrorCode.InvalidConfig,
      /the model was built from another configuration/,
    );
    expect(mismatch.fields).toEqual(['config']);
    applyLora(model, { r: 2, alpha: 4, targetModules: ['language_model.model.layers.0.self_attn.q_proj'] });
    const wrapped = await expectRejection(
      writeBaseCheckpoint(dir, { model, config, tokenizer: data.tokenizer }),
      ModelException,
      ModelErrorCode.InvalidConfig,
      /language_model\.model\.layers\.0\.self_attn\.q_proj is a LoraLinear, not a plain linear layer/,
    );
    expect(wrapped.fields).toEqual(['language_model.model.layers.0.self_attn.q_proj']);
    expect(await fs.readdir(dir)).toEqual([]);
    model.dispose();
  });
});

describe('readBaseCheckpoint', () => {
  it('gives back a model with the same logits on a batch, and the same config and tokenizer', async () => {
    const { model, config, tokenizer } = parts(4);
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    const back = await readBaseCheckpoint(dir);
    expect(back.config).toEqual({ ...config, vision: { ...config.vision, useClassToken: true } });
    expect(back.tokenizer.toJSON()).toEqual(tokenizer.toJSON());
    const batch = collateSft(data.train.slice(0, 3), tokenizer.padId);
    const a = model.forward(batch);
    const b = back.model.forward(batch);
    expect(b.shape).toEqual(a.shape);
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    tf.dispose([a, b, batch.pixelValues, batch.inputIds, batch.labels]);
    model.dispose();
    back.model.dispose();
  });

  it('refuses a config.json with bad fields, listing each', async () => {
    const { model, config, tokenizer } = parts();
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    model.dispose();
    const json = await readConfig();
    json.text_config.num_hidden_layers = 0;
    json.vision_config.layer_norm_eps = -1;
    json.text_config.sliding_window = 'none';
    await writeConfig(json);
    const error = await expectRejection(readBaseCheckpoint(dir), ModelException, ModelErrorCode.InvalidConfig, /^Invalid .*config\.json:/);
    expect(error.fields).toEqual(['text_config.num_hidden_layers', 'text_config.sliding_window', 'vision_config.layer_norm_eps']);
    expect(error.message).toContain('text_config.sliding_window (or null) must be a positive integer, got "none"');
  });

  it('refuses a checkpoint with a tensor of the wrong shape, naming it with its shape and the expected one', async () => {
    const { model, config, tokenizer } = parts();
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    model.dispose();
    const file = path.join(dir, 'model.safetensors');
    const { tensors, metadata } = parseSafetensors(await fs.readFile(file));
    const name = 'language_model.model.layers.1.mlp.up_proj.weight';
    tensors[name] = { dtype: 'F32', shape: [64, 128], data: tensors[name].data };
    await writeSafetensors(file, tensors, metadata);
    const before = tf.memory().numTensors;
    const error = await expectRejection(readBaseCheckpoint(dir), SafetensorsException, SafetensorsErrorCode.CheckpointMismatch);
    expect(error.message).toContain(`wrong shapes (1): ${name} is [64, 128], expected [128, 64]`);
    expect(error.fields).toEqual([name]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a tokenizer.json whose vocabulary or <image> id does not fit config.json', async () => {
    const { model, config, tokenizer } = parts();
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    model.dispose();
    const other = ByteLevelBpeTokenizer.train(['USER: ASSISTANT: a circle'], { vocabSize: 280, specialTokens: ['<s>', '</s>', '<image>', '<pad>'] });
    await fs.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(other.toJSON()));
    const before = tf.memory().numTensors;
    const error = await expectRejection(readBaseCheckpoint(dir), ModelException, ModelErrorCode.InvalidConfig, /tokenizer\.json does not fit config\.json/);
    expect(error.fields).toEqual(['text_config.vocab_size', 'image_token_index', 'text_config.pad_token_id']);
    expect(error.message).toContain(`tokenizer.json has ${other.vocabSize} tokens but text_config.vocab_size is ${config.text.vocabSize}`);
    expect(error.message).toContain('tokenizer.json has <image> as id 2 but image_token_index is 3');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names a missing config.json or tokenizer.json', async () => {
    await expectRejection(readBaseCheckpoint(dir), ModelException, ModelErrorCode.InvalidConfig, /config\.json is missing/);
    const { model, config, tokenizer } = parts();
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    model.dispose();
    await fs.rm(path.join(dir, 'tokenizer.json'));
    const error = await expectRejection(readBaseCheckpoint(dir), ModelException, ModelErrorCode.InvalidConfig, /tokenizer\.json is missing/);
    expect(error.fields).toEqual(['tokenizer.json']);
  });

  it('leaves no tensor behind after write, read and dispose', async () => {
    const { model, config, tokenizer } = parts();
    const before = tf.memory().numTensors;
    await writeBaseCheckpoint(dir, { model, config, tokenizer });
    const back = await readBaseCheckpoint(dir);
    back.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
