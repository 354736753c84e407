import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expectException } from '../expect-exception.fixture';
import { LayerErrorCode, LayerException } from './layer.exception';
import { Linear } from './linear';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe(Linear.name, () => {
  describe('apply', () => {
    it('computes x·Wᵀ + b with W stored [out, in]', () => {
      // Hand-computed: W = [[1, 2, 3], [4, 5, 6]], b = [0.5, -1], x = [1, 0, -1] and [2, 1, 0]
      // row 1: [1-3, 4-6] + b = [-1.5, -3]; row 2: [2+2, 8+5] + b = [4.5, 12]
      const init = tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const layer = new Linear('t', 3, 2, { init });
      layer.bias!.assign(tf.tensor1d([0.5, -1]));
      const y = layer.apply(
        tf.tensor2d([
          [1, 0, -1],
          [2, 1, 0],
        ]),
      );
      expect(y.shape).toEqual([2, 2]);
      expect(Array.from(y.dataSync())).toEqual([-1.5, -3, 4.5, 12]);
      layer.dispose();
      init.dispose();
    });

    it('keeps leading dimensions [..., in] -> [..., out]', () => {
      const layer = new Linear('t', 4, 3, { bias: false, seed: 1 });
      const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 3);
      const y = layer.apply(x);
      expect(y.shape).toEqual([2, 5, 3]);
      // Row (1, 2) equals the 2-D product of that row.
      const row = tf.reshape(tf.slice(x, [1, 2, 0], [1, 1, 4]), [1, 4]);
      const expected = tf.matMul(row, tf.transpose(layer.weight)).dataSync();
      const got = tf.slice(y, [1, 2, 0], [1, 1, 3]).dataSync();
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
      layer.dispose();
    });

    it('rejects an input whose last dimension is not inFeatures', () => {
      const layer = new Linear('proj', 4, 3);
      expectException(() => layer.apply(tf.zeros([2, 5])), LayerException, LayerErrorCode.InvalidInput, /proj.*last dimension is 5.*expected 4/);
      layer.dispose();
    });

    it('does not leak tensors across calls', () => {
      const layer = new Linear('t', 8, 8, { seed: 2 });
      const x = tf.ones([3, 8]);
      layer.apply(x).dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) layer.apply(x).dispose();
      expect(tf.memory().numTensors).toBe(before);
      layer.dispose();
    });
  });

  describe('constructor', () => {
    it('initialises like torch.nn.Linear: U(-1/√in, 1/√in), seeded', () => {
      const a = new Linear('a', 64, 32, { seed: 7 });
      const b = new Linear('b', 64, 32, { seed: 7 });
      const c = new Linear('c', 64, 32, { seed: 8 });
      const wa = a.weight.dataSync();
      const bound = 1 / Math.sqrt(64);
      let maxAbs = 0;
      let sumSq = 0;
      for (const v of wa) {
        maxAbs = Math.max(maxAbs, Math.abs(v));
        sumSq += v * v;
      }
      expect(maxAbs).toBeLessThanOrEqual(bound);
      // Variance of U(-k, k) is k²/3; 2048 samples keep the estimate within ~10%.
      expect(sumSq / wa.length).toBeGreaterThan(((bound * bound) / 3) * 0.85);
      expect(sumSq / wa.length).toBeLessThan(((bound * bound) / 3) * 1.15);
      expect(Array.from(b.weight.dataSync())).toEqual(Array.from(wa));
      expect(Array.from(c.weight.dataSync())).not.toEqual(Array.from(wa));
      for (const v of a.bias!.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
      [a, b, c].forEach((l) => l.dispose());
    });

    it('rejects an init weight of the wrong shape, naming the expected layout', () => {
      const init = tf.zeros([3, 2]) as tf.Tensor2D;
      expectException(() => new Linear('q_proj', 3, 2, { init }), LayerException, LayerErrorCode.InvalidConfig, /q_proj.*\[3, 2\].*\[out=2, in=3\]/);
      init.dispose();
    });

    it('rejects non-positive sizes', () => {
      const error = expectException(
        () => new Linear('x', 0, 2),
        LayerException,
        LayerErrorCode.InvalidConfig,
        'Linear x: inFeatures must be a positive integer, got 0',
      );
      expect(error.fields).toEqual(['inFeatures']);
      expect(error.errorClass).toBe('validation');
    });
  });

  describe('trainableVariables', () => {
    it('returns weight and bias when trainable and nothing when frozen', () => {
      const layer = new Linear('t', 2, 2);
      expect(layer.trainableVariables()).toEqual([layer.weight, layer.bias]);
      layer.trainable = false;
      expect(layer.trainableVariables()).toEqual([]);
      expect(layer.weight.trainable).toBe(false);
      layer.dispose();
    });

    it('lets gradients flow to the weight (matches the analytic gradient 1ᵀ·x)', () => {
      const layer = new Linear('t', 3, 2, { seed: 4 });
      const x = tf.tensor2d([
        [1, 2, 3],
        [-1, 0, 2],
      ]);
      const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, [layer.weight]);
      // d/dW sum(x·Wᵀ) = 1ᵀ·x for each output row: [0, 2, 5] twice.
      expect(Array.from(grads[layer.weight.name].dataSync())).toEqual([0, 2, 5, 0, 2, 5]);
      layer.dispose();
    });
  });
});
