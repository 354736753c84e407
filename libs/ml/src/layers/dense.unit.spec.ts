import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectException } from '../expect-exception.fixture';
import { TiedLmHead } from '../model/decoder-model';
import { QuantizedLinear } from '../quant/quantized-linear';
import { denseForward } from './dense';
import { LayerErrorCode, LayerException } from './layer.exception';
import { Linear } from './linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * What Linear, QuantizedLinear and the tied lm_head each computed before they shared
 * denseForward: x flattened to [N, in], one tf.matMul against the [out, in] weight
 * transposed, the bias added, the leading axes restored.
 */
function reference(x: tf.Tensor, weight: tf.Tensor2D, bias: tf.Tensor1D | null): Float32Array {
  return tf.tidy(() => {
    let y = tf.matMul(tf.reshape(x, [-1, weight.shape[1]]), weight, false, true);
    if (bias) y = tf.add(y, bias);
    return y.dataSync() as Float32Array;
  });
}

function expectClose(got: tf.Tensor, want: Float32Array, shape: number[]): void {
  expect(got.shape).toEqual(shape);
  const values = got.dataSync();
  expect(values.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(values[i] - want[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i])));
}

// [input shape without the last axis, in, out]: 2-D, 3-D (a sequence batch), 4-D, one row.
const CASES: [number[], number, number][] = [
  [[5], 64, 6],
  [[2, 3], 64, 7],
  [[2, 2, 3], 128, 3],
  [[1, 1], 32, 5],
];

describe(denseForward.name, () => {
  describe.each(CASES)('x [%j, in=%i] -> out=%i', (lead, inFeatures, outFeatures) => {
    const x = () => tf.randomNormal([...lead, inFeatures], 0, 1, 'float32', inFeatures + outFeatures);
    const outShape = [...lead, outFeatures];

    it('Linear: x·Wᵀ + b as before', () => {
      const layer = new Linear('proj', inFeatures, outFeatures, { seed: 3 });
      const input = x();
      expectClose(layer.apply(input), reference(input, layer.weight as tf.Tensor2D, layer.bias as tf.Tensor1D), outShape);
      layer.dispose();
    });

    it('QuantizedLinear: x·dequant(W)ᵀ + b as before', () => {
      const base = new Linear('proj', inFeatures, outFeatures, { seed: 4 });
      const q = QuantizedLinear.fromLinear(base, { doubleQuant: true });
      const input = x();
      const w = q.dequantizedWeight();
      expectClose(q.apply(input), reference(input, w, q.bias), outShape);
      tf.dispose([w, input]);
      base.dispose();
      q.dispose();
    });

    it('tied lm_head: x·Eᵀ with the embedding matrix, no bias', () => {
      const embedding = tf.variable(tf.randomNormal([outFeatures, inFeatures], 0, 0.02, 'float32', 5));
      const head = new TiedLmHead(embedding, inFeatures, outFeatures);
      const input = x();
      expectClose(head.apply(input), reference(input, embedding as tf.Tensor2D, null), outShape);
      embedding.dispose();
    });
  });

  it('leaks no tensors', () => {
    const w = tf.randomNormal([4, 8]) as tf.Tensor2D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    const x = tf.ones([2, 3, 8]);
    denseForward(x, w, b).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) denseForward(x, w, b).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b, x]);
  });

  it('rejects an input, weight or bias of the wrong shape, naming the layer', () => {
    const w = tf.zeros([4, 8]);
    expectException(
      () => denseForward(tf.zeros([2, 3, 7]), w, null, 'Linear q'),
      LayerException,
      LayerErrorCode.InvalidInput,
      'Linear q: input last dimension is 7 (shape [2, 3, 7]), expected 8',
    );
    expectException(
      () => denseForward(tf.zeros([2, 8]), tf.zeros([4, 8, 1])),
      LayerException,
      LayerErrorCode.InvalidInput,
      /weight must be \[out, in\], got shape \[4, 8, 1\]/,
    );
    expectException(() => denseForward(tf.zeros([2, 8]), w, tf.zeros([5])), LayerException, LayerErrorCode.InvalidInput, /bias must be \[4\], got shape \[5\]/);
  });
});
