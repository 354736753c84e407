import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs/promises';
import * as path from 'path';
import {
  openSafetensors,
  type SafetensorsReader,
  type TensorRecord,
  writeSafetensors,
  writeShardedSafetensors,
} from '../safetensors';
import { ModelErrorCode, ModelException } from './model.exception';

/** Anything with Hugging Face-named weights: DecoderModel, MultimodalModel. */
export interface NamedWeightsHolder {
  namedWeights(): Map<string, tf.Variable>;
}

export interface LoadWeightsOptions {
  /**
   * Checkpoint keys that are fine to skip. Default: rotary inv_freq buffers, which older
   * transformers versions saved although they are computed from the config.
   */
  ignore?: RegExp[];
}

export interface LoadWeightsReport {
  loaded: number;
  ignored: string[];
}

const DEFAULT_IGNORE = [/\.rotary_emb\.inv_freq$/];
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

function list(names: string[], max = 20): string {
  return names.slice(0, max).join(', ') + (names.length > max ? `, ... (${names.length - max} more)` : '');
}

/**
 * Loads a Hugging Face checkpoint (a .safetensors file, a directory, or a sharded
 * model.safetensors.index.json) into a model by HF key names. Every name, shape and dtype is
 * checked first, and all problems (missing, unexpected, wrong shape) are reported together
 * before anything is assigned, so a mismatched checkpoint never leaves the model half
 * loaded. Tensors are then read and assigned one at a time, so memory stays at one tensor
 * beyond the model.
 */
export async function loadHuggingFaceWeights(
  model: NamedWeightsHolder,
  source: string | SafetensorsReader,
  options: LoadWeightsOptions = {},
): Promise<LoadWeightsReport> {
  const reader = typeof source === 'string' ? await openSafetensors(source) : source;
  try {
    const expected = model.namedWeights();
    const ignore = options.ignore ?? DEFAULT_IGNORE;
    const keys = reader.keys();
    const present = new Set(keys);
    const ignored = keys.filter((k) => !expected.has(k) && ignore.some((re) => re.test(k)));
    const missing = [...expected.keys()].filter((k) => !present.has(k));
    const unexpected = keys.filter((k) => !expected.has(k) && !ignored.includes(k));
    const wrongShape: string[] = [];
    const wrongDtype: string[] = [];
    for (const [name, variable] of expected) {
      if (!present.has(name)) continue;
      const info = reader.info(name);
      if (info.shape.length !== variable.shape.length || info.shape.some((d, i) => d !== variable.shape[i])) {
        wrongShape.push(`${name} is [${info.shape.join(', ')}], the model expects [${variable.shape.join(', ')}]`);
      }
      if (!FLOAT_DTYPES.has(info.dtype)) wrongDtype.push(`${name} is ${info.dtype}, expected F32, F16 or BF16`);
    }
    const problems = [
      missing.length ? `missing keys (${missing.length}): ${list(missing)}` : '',
      unexpected.length ? `unexpected keys (${unexpected.length}): ${list(unexpected)}` : '',
      wrongShape.length ? `wrong shapes (${wrongShape.length}): ${list(wrongShape, 10)}` : '',
      wrongDtype.length ? `wrong dtypes (${wrongDtype.length}): ${list(wrongDtype, 10)}` : '',
    ].filter(Boolean);
    if (problems.length > 0) {
      throw new ModelException(ModelErrorCode.CheckpointMismatch, `Checkpoint does not fit the model:\n  - ${problems.join('\n  - ')}`);
    }
    for (const [name, variable] of expected) {
      const record = await reader.read(name);
      const t = tf.tensor(record.data as Float32Array, record.shape, 'float32');
      variable.assign(t);
      t.dispose();
    }
    return { loaded: expected.size, ignored };
  } finally {
    if (typeof source === 'string') await reader.close();
  }
}

export interface SaveWeightsOptions {
  /** Shard the checkpoint (model-0000i-of-0000n.safetensors + index) above this many bytes of data. */
  maxShardBytes?: number;
  /** Stored precision; F16/BF16 halve the size. Default F32. */
  dtype?: 'F32' | 'F16' | 'BF16';
  metadata?: Record<string, string>;
}

/**
 * Writes the model's weights under their HF names into dir, as save_pretrained does:
 * model.safetensors, or shards plus model.safetensors.index.json when maxShardBytes is set.
 * Returns the files written.
 */
export async function saveHuggingFaceWeights(model: NamedWeightsHolder, dir: string, options: SaveWeightsOptions = {}): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const dtype = options.dtype ?? 'F32';
  const tensors: Record<string, TensorRecord> = {};
  for (const [name, variable] of model.namedWeights()) {
    tensors[name] = { dtype, shape: [...variable.shape], data: variable.dataSync() as Float32Array };
  }
  const metadata = { format: 'pt', ...options.metadata };
  if (options.maxShardBytes !== undefined) {
    return writeShardedSafetensors(dir, tensors, options.maxShardBytes, metadata);
  }
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, metadata);
  return ['model.safetensors'];
}
