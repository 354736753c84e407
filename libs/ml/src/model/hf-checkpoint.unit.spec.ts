import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { expectRejection } from '../expect-exception.fixture';
import { SafetensorsErrorCode, SafetensorsException, type TensorRecord, writeSafetensors, writeShardedSafetensors } from '../safetensors';
import { DecoderModel } from './decoder-model';
import { loadHuggingFaceWeights, saveHuggingFaceWeights } from './hf-checkpoint';
import { tinyMultimodalConfig } from './model-config';
import { MultimodalModel } from './multimodal-model';
import { HF_TINY_MISTRAL } from './reference/hf-reference.values';
import { HF_TINY_MISTRAL_CONFIG, fixtureValues, maxAbsDiff } from './reference/reference-fixtures';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY = HF_TINY_MISTRAL_CONFIG;

/** The fixture weights of hf-reference.py's tiny MistralForCausalLM, as a checkpoint would hold them. */
function hfTensors(): Record<string, TensorRecord> {
  const model = new DecoderModel(TINY, 0);
  const shapes = new Map([...model.namedWeights()].map(([n, v]) => [n, [...v.shape]]));
  model.dispose();
  const out: Record<string, TensorRecord> = {};
  HF_TINY_MISTRAL.names.forEach((name, k) => {
    const shape = shapes.get(name)!;
    let data = fixtureValues(
      shape.reduce((a, b) => a * b, 1),
      k,
    );
    if (name.includes('norm')) data = data.map((x) => Math.fround(x + 1));
    out[name] = { dtype: 'F32', shape, data };
  });
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trellis-ckpt-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const ids = (v: number[]) => tf.tensor2d([v], [1, v.length], 'int32');

describe('loadHuggingFaceWeights', () => {
  it('loads a sharded checkpoint by HF key names and reproduces the HF logits', async () => {
    const files = await writeShardedSafetensors(dir, hfTensors(), 2000);
    expect(files.length).toBeGreaterThan(2);
    const model = new DecoderModel(TINY, 99);
    const report = await loadHuggingFaceWeights(model, path.join(dir, 'model.safetensors.index.json'));
    expect(report.loaded).toBe(HF_TINY_MISTRAL.names.length);
    const logits = model.forward({ inputIds: ids(HF_TINY_MISTRAL.ids) });
    expect(maxAbsDiff(logits.dataSync(), HF_TINY_MISTRAL.logits)).toBeLessThan(2e-5);
    logits.dispose();
    model.dispose();
  });

  it('skips rotary inv_freq buffers that older checkpoints carry', async () => {
    const tensors = hfTensors();
    tensors['model.layers.0.self_attn.rotary_emb.inv_freq'] = { dtype: 'F32', shape: [2], data: new Float32Array([1, 0.01]) };
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    const model = new DecoderModel(TINY, 0);
    const report = await loadHuggingFaceWeights(model, dir);
    expect(report.ignored).toEqual(['model.layers.0.self_attn.rotary_emb.inv_freq']);
    model.dispose();
  });

  it('reports missing, unexpected and wrong-shape keys together and assigns nothing', async () => {
    const tensors = hfTensors();
    delete tensors['model.norm.weight'];
    tensors['model.layers.0.self_attn.q_proj.bias'] = { dtype: 'F32', shape: [16], data: new Float32Array(16) };
    tensors['model.layers.1.mlp.up_proj.weight'] = { dtype: 'F32', shape: [16, 24], data: new Float32Array(16 * 24) };
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    const model = new DecoderModel(TINY, 0);
    const before = model.namedWeights().get('model.embed_tokens.weight')!.dataSync().slice();
    const error = await expectRejection(loadHuggingFaceWeights(model, dir), SafetensorsException, SafetensorsErrorCode.CheckpointMismatch);
    expect(error.message).toMatch(/^checkpoint .* does not fit the model:/);
    expect(error.message).toMatch(/missing keys \(1\): model\.norm\.weight/);
    expect(error.message).toMatch(/unexpected keys \(1\): model\.layers\.0\.self_attn\.q_proj\.bias/);
    expect(error.message).toMatch(/wrong shapes \(1\): model\.layers\.1\.mlp\.up_proj\.weight is \[16, 24\], expected \[24, 16\]/);
    expect(error.fields).toEqual(['model.norm.weight', 'model.layers.0.self_attn.q_proj.bias', 'model.layers.1.mlp.up_proj.weight']);
    expect(error.errorClass).toBe('validation');
    expect(Array.from(model.namedWeights().get('model.embed_tokens.weight')!.dataSync())).toEqual(Array.from(before));
    model.dispose();
  });
});

describe('saveHuggingFaceWeights', () => {
  it('round-trips a multimodal model through sharded files under llava-hf names', async () => {
    const config = tinyMultimodalConfig({ vocabSize: 40, imageTokenId: 39 });
    const a = new MultimodalModel(config, 1);
    const files = await saveHuggingFaceWeights(a, dir, { maxShardBytes: 64 * 1024 });
    expect(files.length).toBeGreaterThan(1);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map)).toContain('multi_modal_projector.linear_1.weight');
    expect(Object.keys(index.weight_map)).toContain('language_model.model.layers.0.self_attn.q_proj.weight');
    const b = new MultimodalModel(config, 2);
    await loadHuggingFaceWeights(b, dir);
    const pixels = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 3);
    const input = ids([1, 39, 5, 6]);
    const la = a.forward({ pixelValues: pixels, inputIds: input });
    const lb = b.forward({ pixelValues: pixels, inputIds: input });
    expect(maxAbsDiff(la.dataSync(), lb.dataSync())).toBe(0);
    tf.dispose([pixels, input, la, lb]);
    a.dispose();
    b.dispose();
  });

  it('stores BF16 when asked, loading back within bfloat16 precision', async () => {
    const a = new DecoderModel(TINY, 1);
    await saveHuggingFaceWeights(a, dir, { dtype: 'BF16' });
    const b = new DecoderModel(TINY, 2);
    await loadHuggingFaceWeights(b, dir);
    const wa = a.namedWeights().get('lm_head.weight')!.dataSync();
    const wb = b.namedWeights().get('lm_head.weight')!.dataSync();
    expect(maxAbsDiff(wa, wb)).toBeLessThan(0.26 * 2 ** -8);
    expect(maxAbsDiff(wa, wb)).toBeGreaterThan(0);
    a.dispose();
    b.dispose();
  });
});
