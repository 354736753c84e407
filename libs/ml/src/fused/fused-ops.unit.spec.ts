import * as tf from '@tensorflow/tfjs-core';
import { initMlBackend } from '../backend/ml-backend';
import { SeededRandom } from '../layers/seeded-random';
import { registerFusedCpuKernels } from './fused-cpu-kernels';
import { FusedKernel } from './fused-kernel-names';
import { adamWUpdate, rmsNorm, rotary, scaledMaskedSoftmax, setFusedOps, softmaxCrossEntropy, swiGlu } from './fused-ops';
import { rowTable } from './row-table';

/**
 * Each fused op against the plain chain of standard ops it replaces, differentiated by tfjs (the
 * reference: the chain the layers ran before, itself checked against transformers' values in the
 * layer and model specs): values and the gradient of every input, on the cpu backend's fused
 * kernels, on the same backend without them (the customGrad chains other backends run; SwiGLU
 * and rotary run their plain chains there), and on the backend this suite picked (native
 * TensorFlow here).
 */
const random = new SeededRandom(23);
const tensor = (shape: number[], spread = 2) =>
  tf.tensor(
    Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (random.next() * 2 - 1) * spread),
    shape,
  );

function close(actual: tf.Tensor, expected: tf.Tensor, tolerance = 2e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!) / Math.max(1, Math.abs(e[i]!)));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** Value and gradients of f at xs with one upstream gradient dy, fused and plain. */
function compare(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tolerance?: number): void {
  let dy: tf.Tensor | undefined;
  const run = (fused: boolean) => {
    setFusedOps(fused);
    try {
      const value = f(...xs);
      dy ??= tensor(value.shape, 1);
      const grads = tf.grads((...inputs: tf.Tensor[]) => f(...inputs))(xs, dy);
      return { value, grads };
    } finally {
      setFusedOps(true);
    }
  };
  const plain = run(false);
  const fused = run(true);
  close(fused.value, plain.value, tolerance);
  fused.grads.forEach((g, i) => close(g, plain.grads[i]!, tolerance));
}

const KERNEL_NAMES = Object.values(FusedKernel);

const modes: [string, () => Promise<void>][] = [
  [
    'cpu, fused kernels',
    async () => {
      await initMlBackend({ prefer: ['cpu'] });
      registerFusedCpuKernels();
    },
  ],
  [
    'cpu, no fused kernels (the chain other backends run)',
    async () => {
      await initMlBackend({ prefer: ['cpu'] });
      for (const name of KERNEL_NAMES) if (tf.getKernel(name, 'cpu')) tf.unregisterKernel(name, 'cpu');
    },
  ],
  ['the suite’s backend', async () => void (await initMlBackend())],
];

describe.each(modes)('fused ops on %s', (_, setUp) => {
  beforeAll(setUp);
  afterAll(async () => {
    registerFusedCpuKernels();
    await initMlBackend();
  });

  it('rmsNorm: x·rsqrt(mean(x²)+eps)·w, and its gradient for x and w', () => {
    compare((x, w) => rmsNorm(x, w, 1e-6), [tensor([2, 3, 16]), tensor([16])]);
    compare((x, w) => rmsNorm(x, w, 1e-5), [tensor([5, 8], 0.01), tensor([8])]);
  });

  it('swiGlu: silu(gate)·up, and its gradient for both', () => {
    compare((g, u) => swiGlu(g, u), [tensor([2, 4, 12], 6), tensor([2, 4, 12])]);
  });

  it('rotary: one table for every head, and one per batch row (left padding)', () => {
    const cos = tensor([5, 8], 1);
    const sin = tensor([5, 8], 1);
    compare((x) => rotary(x, cos, sin), [tensor([2, 3, 5, 8])]);
    const cosB = tensor([2, 1, 5, 8], 1);
    const sinB = tensor([2, 1, 5, 8], 1);
    compare((x) => rotary(x, cosB, sinB), [tensor([2, 3, 5, 8])]);
  });

  it('scaledMaskedSoftmax: with a causal mask, a per-row mask, and none', () => {
    const causal = tf.tensor2d(
      Array.from({ length: 6 * 6 }, (_, i) => (i % 6 > Math.floor(i / 6) ? -1e9 : 0)),
      [6, 6],
    );
    compare((s) => scaledMaskedSoftmax(s, 0.25, causal), [tensor([2, 3, 6, 6], 4)]);
    const perRow = tf.tensor4d(
      Array.from({ length: 2 * 6 * 6 }, (_, i) => (i % 6 === 0 && i < 36 ? -1e9 : 0)),
      [2, 1, 6, 6],
    );
    compare((s) => scaledMaskedSoftmax(s, 0.5, perRow), [tensor([2, 3, 6, 6], 4)]);
    compare((s) => scaledMaskedSoftmax(s, 1), [tensor([4, 7], 4)]);
  });

  it('softmaxCrossEntropy: weighted, rows of weight 0 neither scored nor differentiated', () => {
    const targets = Int32Array.from([3, 0, 9, 9, 1, 5]);
    const weights = Float32Array.from([0.25, 0, 0.25, 0.25, 0, 0.25]);
    compare((l) => softmaxCrossEntropy(l as tf.Tensor2D, targets, weights), [tensor([6, 10], 5)]);
    setFusedOps(true);
    const l = tensor([6, 10], 5);
    const dl = tf.grad((x: tf.Tensor) => softmaxCrossEntropy(x as tf.Tensor2D, targets, weights))(l);
    const rows = dl.arraySync() as number[][];
    expect(rows[1]!.every((g) => g === 0) && rows[4]!.every((g) => g === 0)).toBe(true);
    expect(rows[0]!.some((g) => g !== 0)).toBe(true);
  });

  it('shapes the fused path does not take run the plain chain, with the same results', () => {
    // A mask broadcast along heads but not positions: not one of the two table shapes.
    const odd = tensor([2, 3, 1, 6]);
    expect(rowTable([2, 3, 6, 6], odd.shape)).toBeNull();
    compare((s) => scaledMaskedSoftmax(s, 0.5, odd), [tensor([2, 3, 6, 6])]);
    compare((g, u) => swiGlu(g, u), [tensor([2, 6]), tensor([6])]);
  });

  it('leaves no tensor behind, forward or backward', () => {
    const x = tensor([2, 4, 8]);
    const w = tensor([8]);
    const cos = tensor([4, 8]);
    const sin = tensor([4, 8]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const step = (a: tf.Tensor, b: tf.Tensor) => {
        const h = swiGlu(rotary(tf.reshape(rmsNorm(a, b, 1e-6), [2, 1, 4, 8]), cos, sin), tf.reshape(a, [2, 1, 4, 8]));
        const p = scaledMaskedSoftmax(h, 0.5);
        return softmaxCrossEntropy(tf.reshape(p, [8, 8]) as tf.Tensor2D, Int32Array.from([1, 2, 3, 4, 5, 6, 7, 0]), new Float32Array(8).fill(0.125));
      };
      tf.grads(step)([x, w]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fused ops take fewer kernels', () => {
  beforeAll(async () => {
    await initMlBackend({ prefer: ['cpu'] });
    registerFusedCpuKernels();
  });
  afterAll(async () => void (await initMlBackend()));

  it('an RMSNorm and softmax forward and backward run a fraction of the plain chain’s kernels', async () => {
    const x = tensor([4, 6, 32]);
    const w = tensor([32]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(scaledMaskedSoftmax(rmsNorm(a, b, 1e-6), 0.5));
    const kernels = async (fused: boolean) => {
      setFusedOps(fused);
      try {
        const info = await tf.profile(() => tf.grads(f)([x, w]));
        return info.kernels.map((k) => k.name);
      } finally {
        setFusedOps(true);
      }
    };
    const plain = await kernels(false);
    const fused = await kernels(true);
    expect(fused).toEqual(
      expect.arrayContaining([FusedKernel.RmsNorm, FusedKernel.RmsNormGrad, FusedKernel.ScaledMaskedSoftmax, FusedKernel.ScaledSoftmaxGrad]),
    );
    expect(plain).not.toContain(FusedKernel.RmsNorm);
    expect(fused.length * 2).toBeLessThan(plain.length);
  });
});

describe('adamWUpdate on the cpu kernel', () => {
  beforeAll(async () => {
    await initMlBackend({ prefer: ['cpu'] });
    registerFusedCpuKernels();
  });
  afterAll(async () => void (await initMlBackend()));

  it.each([0.01, 0])('is bit for bit the chain of standard ops over three steps (weight decay %p)', async (weightDecay) => {
    const steps = (fused: boolean) => {
      setFusedOps(fused);
      const r = new SeededRandom(5);
      const draw = (n: number, spread: number) => tf.tensor1d(Array.from({ length: n }, () => (r.next() * 2 - 1) * spread));
      let state: { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } = { param: draw(257, 1), m: tf.zeros([257]), v: tf.zeros([257]) };
      try {
        for (let t = 1; t <= 3; t++) {
          const lr = 0.01;
          const constants = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, bc2Sqrt: Math.sqrt(1 - 0.999 ** t), stepSize: lr / (1 - 0.9 ** t) };
          state = adamWUpdate(state.param, draw(257, 0.1 * t), state.m, state.v, constants);
        }
        return [state.param, state.m, state.v].map((x) => Array.from(x.dataSync()));
      } finally {
        setFusedOps(true);
      }
    };
    const plain = steps(false);
    const fused = steps(true);
    expect(fused).toEqual(plain);
    // The three steps moved every parameter (the comparison is not of untouched values).
    const start = new SeededRandom(5);
    expect(plain[0]!.every((p) => p !== Math.fround((start.next() * 2 - 1) * 1))).toBe(true);
    const info = await tf.profile(
      () =>
        adamWUpdate(tf.ones([4]), tf.ones([4]), tf.zeros([4]), tf.zeros([4]), {
          lr: 0.1,
          beta1: 0.9,
          beta2: 0.99,
          eps: 1e-8,
          weightDecay,
          bc2Sqrt: 0.1,
          stepSize: 1,
        }).param,
    );
    expect(info.kernels.map((k) => k.name)).toEqual([FusedKernel.AdamW]);
  });
});
