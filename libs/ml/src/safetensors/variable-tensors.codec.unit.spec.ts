import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectException } from '../expect-exception.fixture';
import { openSafetensors, parseSafetensors, serializeSafetensors, writeSafetensors } from './safetensors';
import { SafetensorsErrorCode, SafetensorsException } from './safetensors.exception';
import { assignFromReader, assignFromRecords, checkTensorsFit, tensorsToRecords } from './variable-tensors.codec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function variables(seed: number): Map<string, tf.Variable> {
  return new Map([
    ['a.weight', tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', seed))],
    ['a.bias', tf.variable(tf.randomNormal([3], 0, 1, 'float32', seed + 1))],
  ]);
}

const values = (vars: Map<string, tf.Variable>) => [...vars].map(([k, v]) => [k, Array.from(v.dataSync())]);
const FIT = { source: 'test.safetensors', target: 'the test variables' };

describe('tensorsToRecords', () => {
  it('round-trips F32 exactly and BF16 within bfloat16 precision', () => {
    const from = variables(1);
    const to = variables(9);
    assignFromRecords(to, parseSafetensors(serializeSafetensors(tensorsToRecords(from))).tensors, FIT);
    expect(values(to)).toEqual(values(from));
    assignFromRecords(to, parseSafetensors(serializeSafetensors(tensorsToRecords(from, 'BF16'))).tensors, FIT);
    for (const [k, v] of from) {
      const got = to.get(k)!.dataSync();
      v.dataSync().forEach((x, i) => expect(Math.abs(got[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8));
    }
  });
});

describe('checkTensorsFit', () => {
  it('returns the ignored keys and accepts what fits', () => {
    const vars = variables(1);
    const records = { ...tensorsToRecords(vars), 'rotary.inv_freq': { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) } };
    expect(checkTensorsFit(vars, new Map(Object.entries(records)), { ...FIT, ignore: [/inv_freq$/] })).toEqual(['rotary.inv_freq']);
  });

  it('reports every missing, unexpected, wrong-shape and non-float tensor in one exception and assigns nothing', () => {
    const vars = variables(1);
    const before = values(vars);
    const records = {
      'a.weight': { dtype: 'I32' as const, shape: [4, 3], data: new Int32Array(12) },
      'b.weight': { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) },
    };
    const error = expectException(() => assignFromRecords(vars, records, FIT), SafetensorsException, SafetensorsErrorCode.CheckpointMismatch);
    expect(error.message).toBe(
      'test.safetensors does not fit the test variables:\n' +
        '  - missing keys (1): a.bias\n' +
        '  - unexpected keys (1): b.weight\n' +
        '  - wrong shapes (1): a.weight is [4, 3], expected [3, 4]\n' +
        '  - wrong dtypes (1): a.weight is I32, expected F32, F16, BF16',
    );
    expect(error.fields).toEqual(['a.bias', 'b.weight', 'a.weight']);
    expect(values(vars)).toEqual(before);
  });
});

describe('assignFromReader', () => {
  it('checks the headers, then assigns tensor by tensor from a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-codec-'));
    const file = path.join(dir, 'model.safetensors');
    const from = variables(2);
    await writeSafetensors(file, tensorsToRecords(from));
    const to = variables(3);
    const reader = await openSafetensors(file);
    try {
      expect(await assignFromReader(to, reader, FIT)).toEqual({ loaded: 2, ignored: [] });
    } finally {
      await reader.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(values(to)).toEqual(values(from));
  });
});
