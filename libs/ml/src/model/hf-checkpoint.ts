import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'fs/promises';
import * as path from 'path';
import {
  assignFromReader,
  type FloatDtype,
  openSafetensors,
  type SafetensorsReader,
  tensorsToRecords,
  writeSafetensors,
  writeShardedSafetensors,
} from '../safetensors';

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

/**
 * Loads a Hugging Face checkpoint (a .safetensors file, a directory, or a sharded
 * model.safetensors.index.json) into a model by HF key names. Every name, shape and dtype is
 * checked first, and all problems (missing, unexpected, wrong shape or dtype) are reported
 * together in one SAFETENSORS_CHECKPOINT_MISMATCH before anything is assigned, so a mismatched
 * checkpoint never leaves the model half loaded. Tensors are then read and assigned one at a
 * time, so memory stays at one tensor beyond the model.
 */
export async function loadHuggingFaceWeights(
  model: NamedWeightsHolder,
  source: string | SafetensorsReader,
  options: LoadWeightsOptions = {},
): Promise<LoadWeightsReport> {
  const reader = typeof source === 'string' ? await openSafetensors(source) : source;
  try {
    return await assignFromReader(model.namedWeights(), reader, {
      source: typeof source === 'string' ? `checkpoint ${source}` : 'the checkpoint',
      target: 'the model',
      ignore: options.ignore ?? DEFAULT_IGNORE,
    });
  } finally {
    if (typeof source === 'string') await reader.close();
  }
}

export interface SaveWeightsOptions {
  /** Shard the checkpoint (model-0000i-of-0000n.safetensors + index) above this many bytes of data. */
  maxShardBytes?: number;
  /** Stored precision; F16/BF16 halve the size. Default F32. */
  dtype?: FloatDtype;
  metadata?: Record<string, string>;
}

/**
 * Writes the model's weights under their HF names into dir, as save_pretrained does:
 * model.safetensors, or shards plus model.safetensors.index.json when maxShardBytes is set.
 * Returns the files written.
 */
export async function saveHuggingFaceWeights(model: NamedWeightsHolder, dir: string, options: SaveWeightsOptions = {}): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const tensors = tensorsToRecords(model.namedWeights(), options.dtype ?? 'F32');
  const metadata = { format: 'pt', ...options.metadata };
  if (options.maxShardBytes !== undefined) {
    return writeShardedSafetensors(dir, tensors, options.maxShardBytes, metadata);
  }
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, metadata);
  return ['model.safetensors'];
}
