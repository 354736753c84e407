import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTfjsGradients } from './tf-gradients';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('registerTfjsGradients', () => {
  it('registers the gradients the models need from the tfjs-core sources', () => {
    const { registered, skipped } = registerTfjsGradients();
    const needed = ['BatchMatMul', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Sum', 'Mean', 'Reshape', 'Transpose', 'Softmax',
      'LogSoftmax', 'GatherV2', 'Concat', 'Slice', 'Rsqrt', 'Sigmoid', 'Erf', 'Tanh', 'Exp', 'Log', 'Square', 'Max', 'Select', 'Pow'];
    for (const kernel of needed) expect(tf.getGradient(kernel)).toBeDefined();
    expect(registered.length).toBeGreaterThan(80);
    // Only pooling / convolution back-props (internal ops) may be missing.
    for (const s of skipped) expect(s.file).toMatch(/Pool|Conv|LRN/);
  });

  it('gives the analytic gradient of a composite expression', () => {
    // f(x) = sum(((xᵀ + x) - max(x)) / 2); df/dx = 1 everywhere, minus 4/2 at the arg-max.
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.div(tf.sub(tf.add(tf.transpose(v), v), tf.max(v)), tf.scalar(2))))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 1, 1, -1]);
  });
});
