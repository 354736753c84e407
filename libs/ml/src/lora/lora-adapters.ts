import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs';
import * as path from 'path';
import { Linear, LinearHost } from '../layers/linear';
import { assignFromRecords, parseSafetensors, serializeSafetensors, TensorRecord, tensorsToRecords } from '../safetensors';
import { LoraLinear } from './lora-linear';
import { LoraErrorCode, LoraException } from './lora.exception';
import { buildPeftLoraConfig, parsePeftLoraConfig, PeftLoraConfigJson } from './peft-config';
import { matchModuleNames } from './target-modules';

export interface LoraConfig {
  r: number;
  alpha: number;
  dropout?: number;
  /** Suffixes like `q_proj` or full module names, matched as PEFT matches target_modules. */
  targetModules: readonly string[];
  useRslora?: boolean;
  seed?: number;
}

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** Where PEFT saves a targeted layer's own weight (for lm_head and embeddings). */
function peftBaseKey(moduleName: string): string {
  return `base_model.model.${moduleName}.base_layer.weight`;
}

/** Float32 values within the precision the file stored them in. */
const SAVED_PRECISION: Record<string, number> = { F32: 0, F16: 2 ** -11, BF16: 2 ** -8 };

function checkSavedBase(key: string, saved: TensorRecord, layer: LoraLinear): void {
  const mismatch = (why: string) =>
    new LoraException(LoraErrorCode.BaseMismatch, `${ADAPTER_WEIGHTS_FILE}: ${key} ${why}; the adapter was saved for another base model`, [key]);
  if (!(layer.base instanceof Linear))
    throw new LoraException(LoraErrorCode.UnsupportedBase, `${ADAPTER_WEIGHTS_FILE}: ${key} cannot be checked against a quantized base layer`, [key]);
  const weight = layer.base.weight;
  if (saved.shape.join(',') !== weight.shape.join(',')) throw mismatch(`is [${saved.shape.join(', ')}], this model's is [${weight.shape.join(', ')}]`);
  const tolerance = SAVED_PRECISION[saved.dtype];
  if (tolerance === undefined) throw mismatch(`is ${saved.dtype}, expected F32, F16 or BF16`);
  const ours = weight.dataSync();
  const theirs = saved.data as Float32Array;
  for (let i = 0; i < ours.length; i++) {
    if (Math.abs(ours[i] - theirs[i]) > Math.abs(ours[i]) * tolerance) throw mismatch(`differs from this model's weight (element ${i})`);
  }
}

/** PEFT's state-dict names: the model is wrapped as base_model.model, the adapter name dropped. */
export function peftKey(moduleName: string, which: 'A' | 'B'): string {
  return `base_model.model.${moduleName}.lora_${which}.weight`;
}

interface Trainable {
  setTrainable?(flag: boolean): void;
}

/** The LoRA adapters applied to one model, addressed by module name. */
export class LoraAdapters {
  constructor(
    readonly config: Required<Omit<LoraConfig, 'seed'>> & { seed: number },
    readonly layers: Map<string, LoraLinear>,
  ) {}

  trainableVariables(): tf.Variable[] {
    return [...this.layers.values()].flatMap((l) => l.trainableVariables());
  }

  /** Dropout only acts in training mode. */
  setTraining(flag: boolean): void {
    for (const l of this.layers.values()) l.training = flag;
  }

  merge(): void {
    for (const l of this.layers.values()) l.merge();
  }

  unmerge(): void {
    for (const l of this.layers.values()) l.unmerge();
  }

  /** Adapter weights under PEFT names, [r, in] for A and [out, r] for B. */
  namedWeights(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, l] of this.layers) {
      out.set(peftKey(name, 'A'), l.loraA);
      out.set(peftKey(name, 'B'), l.loraB);
    }
    return out;
  }

  /** Dropout draws per layer, so a resumed run draws the same masks. */
  rngState(): Record<string, number> {
    return Object.fromEntries([...this.layers].map(([n, l]) => [n, l.dropoutCalls]));
  }

  setRngState(state: Record<string, number>): void {
    for (const [n, l] of this.layers) {
      if (typeof state?.[n] !== 'number') throw new LoraException(LoraErrorCode.InvalidRngState, `LoRA RNG state has no entry for ${n}`, [n]);
      l.dropoutCalls = state[n];
    }
  }

  peftConfig(options: { baseModelNameOrPath?: string | null; inferenceMode?: boolean } = {}): PeftLoraConfigJson {
    return buildPeftLoraConfig({ ...this.config, ...options });
  }

  serializeWeights(): Buffer {
    // PEFT saves with metadata {"format": "pt"}; transformers checks it when loading.
    return serializeSafetensors(tensorsToRecords(this.namedWeights()), { format: 'pt' });
  }

  /** Writes adapter_config.json + adapter_model.safetensors, the layout PEFT's from_pretrained reads. */
  save(dir: string, options: { baseModelNameOrPath?: string | null } = {}): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(this.peftConfig(options), null, 2) + '\n');
    fs.writeFileSync(path.join(dir, ADAPTER_WEIGHTS_FILE), this.serializeWeights());
  }

  /**
   * Assigns adapter weights from a PEFT safetensors buffer (F32, or F16/BF16 as PEFT saves a
   * half-precision model's adapter); every adapter must be present with its shape, and the
   * file may hold nothing else.
   */
  loadWeights(buf: Buffer): void {
    const records = parseSafetensors(buf).tensors;
    // PEFT saves the base weight of a targeted embedding layer (lm_head) beside its adapter, so
    // that a resized vocabulary can be restored; here it must be the base the adapter goes on.
    for (const [name, layer] of this.layers) {
      const key = peftBaseKey(name);
      if (!(key in records)) continue;
      checkSavedBase(key, records[key], layer);
      delete records[key];
    }
    assignFromRecords(this.namedWeights(), records, { source: ADAPTER_WEIGHTS_FILE, target: 'the LoRA adapters of this model' });
  }
}

/**
 * Wraps the targeted linear layers of a model in LoRA adapters and freezes everything else
 * (when the model offers setTrainable), so only the adapters train. Works on QuantizedLinear
 * layers too (QLoRA).
 */
export function applyLora(host: LinearHost & Trainable, config: LoraConfig): LoraAdapters {
  const layers = host.linearLayers();
  const names = matchModuleNames(
    layers.keys(),
    config.targetModules,
    (problem) => new LoraException(LoraErrorCode.InvalidTarget, `applyLora: ${problem}`, ['targetModules']),
  );
  const seed = config.seed ?? 0;
  host.setTrainable?.(false);
  const adapters = new Map<string, LoraLinear>();
  names.forEach((name, i) => {
    const base = layers.get(name)!;
    if (base instanceof LoraLinear) throw new LoraException(LoraErrorCode.AlreadyApplied, `applyLora: ${name} already has a LoRA adapter`, [name]);
    const lora = new LoraLinear(base, { r: config.r, alpha: config.alpha, dropout: config.dropout, useRslora: config.useRslora, seed: seed * 7919 + i });
    host.setLinear(name, lora);
    adapters.set(name, lora);
  });
  return new LoraAdapters(
    { r: config.r, alpha: config.alpha, dropout: config.dropout ?? 0, targetModules: [...config.targetModules], useRslora: config.useRslora ?? false, seed },
    adapters,
  );
}

/** Applies a saved PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to a model. */
export function loadLora(host: LinearHost & Trainable, dir: string): LoraAdapters {
  const configPath = path.join(dir, ADAPTER_CONFIG_FILE);
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS_FILE);
  for (const file of [configPath, weightsPath]) {
    if (!fs.existsSync(file)) throw new LoraException(LoraErrorCode.AdapterNotFound, `loadLora: ${file} does not exist`, [path.basename(file)]);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new LoraException(LoraErrorCode.InvalidConfig, `loadLora: ${configPath} is not JSON: ${(err as Error).message}`, [ADAPTER_CONFIG_FILE]);
  }
  const adapters = applyLora(host, parsePeftLoraConfig(json));
  adapters.loadWeights(fs.readFileSync(weightsPath));
  return adapters;
}
