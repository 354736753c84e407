import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectException } from '../expect-exception.fixture';
import { parseSafetensors, SafetensorsErrorCode, SafetensorsException, serializeSafetensors } from '../safetensors';
import { PEFT_LM_HEAD_ADAPTER } from './peft-lm-head.fixture';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, applyLora, loadLora, LoraAdapters } from './lora-adapters';
import { LoraErrorCode, LoraException } from './lora.exception';
import { PEFT_ADAPTER } from './peft-adapter.fixture';
import { ToyHost } from './toy-host.fixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/*
 * PEFT compatibility was checked by hand (peft 0.21.2, torch 2.15.0, in a throwaway venv): an
 * adapter saved by LoraAdapters.save for this toy host (r=2, alpha=8, rsLoRA, all three
 * layers) loads with PeftModel.from_pretrained into a torch module with the same module names
 * and base weights, and PEFT's output equals ours to 2.4e-7 (adapter effect 1.7). The other
 * direction is tested below with an adapter PEFT saved (peft-adapter.fixture.ts).
 *
 * The key list is what PEFT 0.21.2 writes in adapter_config.json for a LoraConfig on a tiny
 * MistralForCausalLM (save_pretrained).
 */
const PEFT_0_21_2_KEYS = [
  'alora_invocation_tokens',
  'alpha_pattern',
  'arrow_config',
  'auto_mapping',
  'base_model_name_or_path',
  'bias',
  'corda_config',
  'ensure_weight_tying',
  'eva_config',
  'exclude_modules',
  'fan_in_fan_out',
  'inference_mode',
  'init_lora_weights',
  'kasa_config',
  'layer_replication',
  'layers_pattern',
  'layers_to_transform',
  'loftq_config',
  'lora_alpha',
  'lora_bias',
  'lora_dropout',
  'lora_ga_config',
  'megatron_config',
  'megatron_core',
  'modules_to_save',
  'monteclora_config',
  'peft_type',
  'peft_version',
  'qalora_group_size',
  'r',
  'rank_pattern',
  'revision',
  'target_modules',
  'target_parameters',
  'task_type',
  'trainable_token_indices',
  'use_bdlora',
  'use_dora',
  'use_qalora',
  'use_rslora',
  'velora_config',
];

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-lora-'));
}

function trainedAdapters(host: ToyHost, seed: number): LoraAdapters {
  const adapters = applyLora(host, { r: 2, alpha: 8, dropout: 0.1, targetModules: ['up_proj', 'lm_head'], useRslora: true });
  for (const l of adapters.layers.values()) l.loraB.assign(tf.randomNormal(l.loraB.shape, 0, 0.3, 'float32', seed));
  return adapters;
}

describe(LoraAdapters.name, () => {
  describe('save', () => {
    it('writes adapter_config.json with exactly the PEFT 0.21.2 keys and our settings', () => {
      const host = new ToyHost();
      const dir = tmpDir();
      trainedAdapters(host, 1).save(dir, { baseModelNameOrPath: 'trellis/tiny-llava' });
      const config = JSON.parse(fs.readFileSync(path.join(dir, ADAPTER_CONFIG_FILE), 'utf8'));
      expect(Object.keys(config).sort()).toEqual([...PEFT_0_21_2_KEYS].sort());
      expect(config).toMatchObject({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: 2,
        lora_alpha: 8,
        lora_dropout: 0.1,
        target_modules: ['lm_head', 'up_proj'],
        bias: 'none',
        use_rslora: true,
        fan_in_fan_out: false,
        init_lora_weights: true,
        modules_to_save: null,
        base_model_name_or_path: 'trellis/tiny-llava',
        inference_mode: true,
        revision: null,
        use_dora: false,
        layers_to_transform: null,
        layers_pattern: null,
        rank_pattern: {},
        alpha_pattern: {},
      });
      host.dispose();
    });

    it('writes adapter_model.safetensors with PEFT names, shapes [r, in] / [out, r] and F32', () => {
      const host = new ToyHost(8, 16, 5);
      const dir = tmpDir();
      trainedAdapters(host, 1).save(dir);
      const file = parseSafetensors(fs.readFileSync(path.join(dir, ADAPTER_WEIGHTS_FILE)));
      expect(file.metadata).toEqual({ format: 'pt' });
      const summary = Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]));
      expect(summary).toEqual({
        'base_model.model.model.layers.0.mlp.up_proj.lora_A.weight': { dtype: 'F32', shape: [2, 8] },
        'base_model.model.model.layers.0.mlp.up_proj.lora_B.weight': { dtype: 'F32', shape: [16, 2] },
        'base_model.model.lm_head.lora_A.weight': { dtype: 'F32', shape: [2, 8] },
        'base_model.model.lm_head.lora_B.weight': { dtype: 'F32', shape: [5, 2] },
      });
      host.dispose();
    });
  });

  describe('loadLora', () => {
    it('restores an adapter so the model computes the same outputs', () => {
      const dir = tmpDir();
      const x = tf.randomNormal([3, 8], 0, 1, 'float32', 4);
      const a = new ToyHost(8, 16, 5, 7);
      trainedAdapters(a, 2).save(dir);
      const expected = a.forward(x).dataSync();
      const b = new ToyHost(8, 16, 5, 7); // same base weights, fresh model
      const loaded = loadLora(b, dir);
      expect(loaded.config).toMatchObject({ r: 2, alpha: 8, dropout: 0.1, useRslora: true });
      expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(expected));
      a.dispose();
      b.dispose();
    });

    it("loads an adapter saved by PEFT and computes PEFT's output", () => {
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(PEFT_ADAPTER.config));
      fs.writeFileSync(path.join(dir, ADAPTER_WEIGHTS_FILE), Buffer.from(PEFT_ADAPTER.safetensorsBase64, 'base64'));
      const host = new ToyHost(8, 16, 5, 3); // the base weights PEFT's model was given
      const x = tf.tensor2d(PEFT_ADAPTER.x, [3, 8]);
      const plain = host.forward(x).dataSync();
      const adapters = loadLora(host, dir);
      expect(adapters.config).toMatchObject({ r: 2, alpha: 6, dropout: 0, useRslora: false });
      expect([...adapters.layers.keys()].sort()).toEqual(['lm_head', 'model.layers.0.mlp.down_proj', 'model.layers.0.mlp.up_proj']);
      const y = host.forward(x).dataSync();
      for (let i = 0; i < 15; i++) expect(Math.abs(y[i] - PEFT_ADAPTER.y[i])).toBeLessThan(1e-5);
      expect(Math.max(...PEFT_ADAPTER.y.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(0.05); // the adapter matters
      host.dispose();
    });

    it('loads an adapter PEFT saved with lm_head targeted (and its lm_head.base_layer.weight), checking that weight', () => {
      const write = (safetensors: Buffer) => {
        const dir = tmpDir();
        fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(PEFT_LM_HEAD_ADAPTER.config));
        fs.writeFileSync(path.join(dir, ADAPTER_WEIGHTS_FILE), safetensors);
        return dir;
      };
      const file = Buffer.from(PEFT_LM_HEAD_ADAPTER.safetensorsBase64, 'base64');
      const baseKey = 'base_model.model.lm_head.base_layer.weight';
      expect(Object.keys(parseSafetensors(file).tensors)).toContain(baseKey);
      const host = new ToyHost(8, 16, 5, 3); // the base weights PEFT's model was given
      const x = tf.tensor2d(PEFT_LM_HEAD_ADAPTER.x, [3, 8]);
      const plain = host.forward(x).dataSync();
      const adapters = loadLora(host, write(file));
      expect([...adapters.layers.keys()].sort()).toEqual(['lm_head', 'model.layers.0.mlp.up_proj']);
      const y = host.forward(x).dataSync();
      for (let i = 0; i < 15; i++) expect(Math.abs(y[i] - PEFT_LM_HEAD_ADAPTER.y[i])).toBeLessThan(1e-5);
      expect(Math.max(...PEFT_LM_HEAD_ADAPTER.y.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(0.05); // the adapter matters
      host.dispose();
      // Another base model (other seed): its lm_head is not the one the adapter was saved for.
      const other = new ToyHost(8, 16, 5, 4);
      const error = expectException(
        () => loadLora(other, write(file)),
        LoraException,
        LoraErrorCode.BaseMismatch,
        /lm_head\.base_layer\.weight differs from this model's weight/,
      );
      expect(error.fields).toEqual([baseKey]);
      other.dispose();
      // A base_layer weight of the wrong shape.
      const tensors = parseSafetensors(file).tensors;
      tensors[baseKey] = { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) };
      const third = new ToyHost(8, 16, 5, 3);
      expectException(
        () => loadLora(third, write(serializeSafetensors(tensors))),
        LoraException,
        LoraErrorCode.BaseMismatch,
        /is \[4, 8\], this model's is \[5, 8\]/,
      );
      third.dispose();
    });

    it('names a missing tensor, a wrong shape and a tensor for no adapter, assigning nothing', () => {
      const host = new ToyHost(8, 16, 5);
      const adapters = trainedAdapters(host, 1);
      const good = parseSafetensors(adapters.serializeWeights()).tensors;
      const before = new Map([...adapters.namedWeights()].map(([k, v]) => [k, Array.from(v.dataSync())]));
      const up = 'base_model.model.model.layers.0.mlp.up_proj.lora_B.weight';
      const mismatch = (tensors: typeof good, message: string | RegExp) =>
        expectException(() => adapters.loadWeights(serializeSafetensors(tensors)), SafetensorsException, SafetensorsErrorCode.CheckpointMismatch, message);
      const { [up]: _dropped, ...missing } = good;
      mismatch(missing, `adapter_model.safetensors does not fit the LoRA adapters of this model:\n  - missing keys (1): ${up}`);
      const wrong = { ...good, [up]: { dtype: 'F32' as const, shape: [2, 16], data: new Float32Array(32) } };
      expect(mismatch(wrong, `${up} is [2, 16], expected [16, 2]`).fields).toEqual([up]);
      const extra = { ...good, 'base_model.model.q_proj.lora_A.weight': good[up] };
      mismatch(extra, /unexpected keys \(1\): base_model\.model\.q_proj\.lora_A\.weight/);
      const ints = { ...good, [up]: { dtype: 'I32' as const, shape: [16, 2], data: new Int32Array(32) } };
      mismatch(ints, `${up} is I32, expected F32, F16, BF16`);
      for (const [k, v] of adapters.namedWeights()) expect(Array.from(v.dataSync())).toEqual(before.get(k));
      host.dispose();
    });

    it('reads adapters saved in half precision', () => {
      const host = new ToyHost(8, 16, 5);
      const adapters = trainedAdapters(host, 1);
      const bf16 = Object.fromEntries(
        Object.entries(parseSafetensors(adapters.serializeWeights()).tensors).map(([k, t]) => [k, { ...t, dtype: 'BF16' as const }]),
      );
      const otherHost = new ToyHost(8, 16, 5);
      const other = applyLora(otherHost, { r: 2, alpha: 8, targetModules: ['up_proj', 'lm_head'] });
      other.loadWeights(serializeSafetensors(bf16));
      for (const [k, v] of adapters.namedWeights()) {
        const got = other.namedWeights().get(k)!.dataSync();
        v.dataSync().forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8));
      }
      host.dispose();
      otherHost.dispose();
    });

    it('refuses PEFT features it cannot apply', () => {
      const host = new ToyHost();
      const dir = tmpDir();
      const adapters = trainedAdapters(host, 1);
      adapters.save(dir);
      const config = JSON.parse(fs.readFileSync(path.join(dir, ADAPTER_CONFIG_FILE), 'utf8'));
      fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify({ ...config, use_dora: true }));
      expectException(() => loadLora(new ToyHost(), dir), LoraException, LoraErrorCode.UnsupportedConfig, /use_dora=true is not supported/);
      fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify({ ...config, peft_type: 'IA3' }));
      expectException(() => loadLora(new ToyHost(), dir), LoraException, LoraErrorCode.UnsupportedConfig, /peft_type is "IA3", only "LORA" is supported/);
      fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify({ ...config, r: 'eight' }));
      expectException(() => loadLora(new ToyHost(), dir), LoraException, LoraErrorCode.InvalidConfig, /r must be a number, got "eight"/);
      fs.rmSync(path.join(dir, ADAPTER_WEIGHTS_FILE));
      expectException(() => loadLora(new ToyHost(), dir), LoraException, LoraErrorCode.AdapterNotFound, /adapter_model\.safetensors does not exist/);
      host.dispose();
    });
  });

  describe('rngState', () => {
    it('records dropout draws so a restored adapter draws the same next mask', () => {
      const host = new ToyHost(8, 16, 5);
      const adapters = trainedAdapters(host, 1);
      adapters.setTraining(true);
      const x = tf.ones([2, 8]);
      host.forward(x);
      const state = adapters.rngState();
      expect(state['lm_head']).toBe(1);
      const next = host.forward(x).dataSync();
      adapters.setRngState(state);
      expect(Array.from(host.forward(x).dataSync())).toEqual(Array.from(next));
      host.dispose();
    });
  });
});
