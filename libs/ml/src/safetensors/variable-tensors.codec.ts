import * as tf from '@tensorflow/tfjs-core';
import type { SafetensorsReader, TensorInfo, TensorRecord } from './safetensors';
import { SafetensorsErrorCode, SafetensorsException } from './safetensors.exception';

/** How weights are stored; all three are read back as float32. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';
export const FLOAT_DTYPES: readonly FloatDtype[] = ['F32', 'F16', 'BF16'];

/**
 * Tensors (model weights, optimizer moments, adapters) as safetensors records under their
 * names, stored as `dtype`. The arrays are the tensors' own values, not copies: tfjs never
 * writes into a tensor's data (assign gives a variable new data), so they stay as read.
 */
export function tensorsToRecords(tensors: Iterable<readonly [string, tf.Tensor]>, dtype: FloatDtype = 'F32'): Record<string, TensorRecord> {
  const records: Record<string, TensorRecord> = {};
  for (const [name, t] of tensors) records[name] = { dtype, shape: [...t.shape], data: t.dataSync() as Float32Array };
  return records;
}

export interface FitOptions {
  /** The file, for messages: a path, or a name such as adapter_model.safetensors. */
  source: string;
  /** What the tensors are for, for messages: "the model", "the LoRA adapters of this model". */
  target: string;
  /** Keys the file may hold that belong to nothing, e.g. older checkpoints' rotary inv_freq buffers. */
  ignore?: readonly RegExp[];
}

export interface AssignReport {
  loaded: number;
  ignored: string[];
}

function list(names: string[], max = 20): string {
  return names.slice(0, max).join(', ') + (names.length > max ? `, ... (${names.length - max} more)` : '');
}

/**
 * Checks a file's tensors against what they are to be assigned to: every missing, unexpected,
 * wrong-shape and non-float tensor is reported together in one SAFETENSORS_CHECKPOINT_MISMATCH,
 * before anything is assigned, so a file that does not fit never leaves the variables half
 * loaded. Returns the ignored keys.
 */
export function checkTensorsFit(
  expected: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  available: ReadonlyMap<string, TensorInfo>,
  options: FitOptions,
): string[] {
  const ignore = options.ignore ?? [];
  const keys = [...available.keys()];
  const ignored = keys.filter((k) => !expected.has(k) && ignore.some((re) => re.test(k)));
  const missing = [...expected.keys()].filter((k) => !available.has(k));
  const unexpected = keys.filter((k) => !expected.has(k) && !ignored.includes(k));
  const wrongShape: string[] = [];
  const wrongDtype: string[] = [];
  for (const [name, want] of expected) {
    const info = available.get(name);
    if (!info) continue;
    if (info.shape.length !== want.shape.length || info.shape.some((d, i) => d !== want.shape[i])) {
      wrongShape.push(name);
    }
    if (!(FLOAT_DTYPES as readonly string[]).includes(info.dtype)) wrongDtype.push(name);
  }
  const shapeOf = (name: string) => `[${[...available.get(name)!.shape].join(', ')}]`;
  const problems = [
    missing.length ? `missing keys (${missing.length}): ${list(missing)}` : '',
    unexpected.length ? `unexpected keys (${unexpected.length}): ${list(unexpected)}` : '',
    wrongShape.length
      ? `wrong shapes (${wrongShape.length}): ${list(
          wrongShape.map((n) => `${n} is ${shapeOf(n)}, expected [${expected.get(n)!.shape.join(', ')}]`),
          10,
        )}`
      : '',
    wrongDtype.length
      ? `wrong dtypes (${wrongDtype.length}): ${list(
          wrongDtype.map((n) => `${n} is ${available.get(n)!.dtype}, expected ${FLOAT_DTYPES.join(', ')}`),
          10,
        )}`
      : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new SafetensorsException(
      SafetensorsErrorCode.CheckpointMismatch,
      `${options.source} does not fit ${options.target}:\n  - ${problems.join('\n  - ')}`,
      [...new Set([...missing, ...unexpected, ...wrongShape, ...wrongDtype])],
    );
  }
  return ignored;
}

/** A record that checkTensorsFit has passed (float, the variable's shape) into the variable. */
export function assignRecord(variable: tf.Variable, record: TensorRecord): void {
  tf.tidy(() => variable.assign(tf.tensor(record.data as Float32Array, variable.shape, 'float32')));
}

/** Checks, then assigns every variable from records already in memory (a parsed file). */
export function assignFromRecords(variables: ReadonlyMap<string, tf.Variable>, records: Record<string, TensorRecord>, options: FitOptions): AssignReport {
  const ignored = checkTensorsFit(variables, new Map(Object.entries(records)), options);
  for (const [name, variable] of variables) assignRecord(variable, records[name]);
  return { loaded: variables.size, ignored };
}

/**
 * Checks against the headers, then reads and assigns one tensor at a time, so memory stays at
 * one tensor beyond the variables however large the checkpoint.
 */
export async function assignFromReader(variables: ReadonlyMap<string, tf.Variable>, reader: SafetensorsReader, options: FitOptions): Promise<AssignReport> {
  const ignored = checkTensorsFit(variables, new Map(reader.keys().map((k) => [k, reader.info(k)])), options);
  for (const [name, variable] of variables) assignRecord(variable, await reader.read(name));
  return { loaded: variables.size, ignored };
}
