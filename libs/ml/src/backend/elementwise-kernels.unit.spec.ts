import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../layers/seeded-random';
import { elementwiseKernelsInstalled, installElementwiseKernels, uninstallElementwiseKernels } from './elementwise-kernels';
import { initMlBackend } from './ml-backend';

/**
 * The fast paths against the cpu backend's own kernels (the reference), on the same inputs:
 * the same float32 operations in the same order, so the results are bit for bit the same.
 */
describe('elementwise kernels (cpu-blas fast paths)', () => {
  beforeAll(async () => {
    await initMlBackend({ prefer: ['cpu'] });
  });
  afterAll(() => uninstallElementwiseKernels());

  const random = new SeededRandom(11);
  const rand = () => random.next();
  const tensor = (shape: number[], dtype: 'float32' | 'int32' = 'float32') =>
    tf.tensor(
      Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (dtype === 'int32' ? Math.floor(rand() * 10) + 1 : rand() * 4 - 2)),
      shape,
      dtype,
    );
  /** The result with the cpu backend's kernels, then with the fast paths. */
  const both = (f: () => tf.Tensor) => {
    uninstallElementwiseKernels();
    const reference = f();
    installElementwiseKernels();
    const fast = f();
    return { reference, fast };
  };
  const same = ({ reference, fast }: { reference: tf.Tensor; fast: tf.Tensor }) => {
    expect(fast.shape).toEqual(reference.shape);
    expect(fast.dtype).toBe(reference.dtype);
    expect(Array.from(fast.dataSync())).toEqual(Array.from(reference.dataSync()));
  };

  const pairs: [string, number[], number[]][] = [
    ['equal shapes', [2, 3, 4], [2, 3, 4]],
    ['a scalar on the right', [2, 3, 4], []],
    ['a scalar on the left', [], [2, 3, 4]],
    ['a one-element tensor', [2, 3, 4], [1, 1, 1]],
    ['a row over every row', [2, 3, 4], [4]],
    ['a row with leading ones', [2, 3, 4], [1, 1, 4]],
    ['a matrix over a batch (a mask)', [2, 3, 4], [3, 4]],
    ['the batch on the right', [3, 4], [2, 3, 4]],
    ['one factor per row', [2, 3, 4], [2, 3, 1]],
    ['one factor per row, on the left', [2, 3, 1], [2, 3, 4]],
    ['equal sizes that broadcast both ways (fallback)', [4, 1], [1, 4]],
    ['a rank the other lacks (fallback)', [4], [1, 4]],
    ['a middle broadcast (fallback)', [2, 3, 4], [2, 1, 4]],
    ['per row over a batch (fallback)', [2, 3, 4], [3, 1]],
  ];

  describe.each([tf.add, tf.sub, tf.mul, tf.div])('%p', (op) => {
    it.each(pairs)('%s: %j with %j', (_, a, b) => {
      const x = tensor(a);
      const y = tensor(b);
      same(both(() => op(x, y)));
    });

    it('leaves int32 to the original kernel', () => {
      const x = tensor([2, 3], 'int32');
      const y = tensor([3], 'int32');
      same(both(() => op(x, y)));
    });
  });

  it.each([
    [[10], [3], [4]],
    [
      [4, 6],
      [1, 0],
      [2, 6],
    ],
    [
      [4, 6],
      [0, 2],
      [4, 3],
    ],
    [
      [2, 3, 5, 4],
      [1, 0, 2, 0],
      [1, 3, 2, 4],
    ],
    [
      [2, 3, 5, 4],
      [0, 1, 1, 1],
      [2, 2, 3, 2],
    ],
    [
      [2, 3, 5, 4],
      [0, 0, 0, 3],
      [2, 3, 5, 1],
    ],
    [
      [3, 4],
      [0, 0],
      [0, 4],
    ],
  ])('slices %j from %j, size %j, as the cpu backend does', (shape, begin, size) => {
    const x = tensor(shape);
    same(both(() => tf.slice(x, begin, size)));
  });

  it.each([[[5]], [[3, 7]], [[2, 4, 9, 9]], [[2, 3, 1]]])('computes softmax of %j as the cpu backend does, to the bit', (shape) => {
    const x = tf.mul(tensor(shape), 8);
    same(both(() => tf.softmax(x)));
  });

  it('keeps softmax of rows holding -Infinity (a causal mask) and of equal logits as the cpu backend does', () => {
    const masked = tf.tensor2d([
      [0.5, -Infinity, -Infinity],
      [1, 2, -Infinity],
      [3, 3, 3],
    ]);
    same(both(() => tf.softmax(masked)));
  });

  it.each([tf.exp, tf.sigmoid, tf.floor])('computes %p as the cpu backend does, to the bit', (op) => {
    const x = tf.mul(tensor([3, 5, 7]), 6);
    same(both(() => op(x)));
  });

  it.each([
    [
      [2, 3],
      [1, 0],
    ],
    [
      [2, 3, 4, 5],
      [0, 2, 1, 3],
    ],
    [
      [2, 3, 4, 5],
      [0, 2, 3, 1],
    ],
    [
      [2, 3, 4, 5],
      [3, 2, 1, 0],
    ],
    [
      [4, 1, 3],
      [1, 0, 2],
    ],
    [
      [2, 3, 2, 2, 3, 2],
      [0, 1, 3, 2, 4, 5],
    ],
  ])('transposes %j by %j as the cpu backend does', (shape, perm) => {
    const x = tensor(shape);
    same(both(() => tf.transpose(x, perm)));
  });

  it.each([
    [[3], [2]],
    [
      [16, 1, 12],
      [1, 4, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [
      [2, 1, 3, 2],
      [1, 2, 2, 3],
    ],
  ])('tiles %j by %j as the cpu backend does', (shape, reps) => {
    const x = tensor(shape);
    same(both(() => tf.tile(x, reps)));
  });

  it('gives gradients through the fast paths equal to the reference (a softmax-like chain)', () => {
    const x = tensor([2, 3, 4]);
    const w = tensor([4]);
    const g = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.div(tf.sub(t, tf.max(t, -1, true)), tf.add(tf.sum(t, -1, true), 3)), w)))(x);
    same(both(g));
  });

  it('installs once and puts the original kernels back', () => {
    installElementwiseKernels();
    installElementwiseKernels();
    expect(elementwiseKernelsInstalled()).toBe(true);
    uninstallElementwiseKernels();
    expect(elementwiseKernelsInstalled()).toBe(false);
  });
});
