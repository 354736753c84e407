import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadBlas } from './blas-library';
import { blasKernelsInstalled, installBlasKernels, uninstallBlasKernels } from './blas-kernels';

// The BLAS kernels are checked against a plain, independent matmul written here (float64
// accumulation, numpy broadcasting of batch dimensions), not against tfjs' own kernel.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray(size: number, rand: () => number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rand() * 2 - 1;
  return a;
}

const prod = (s: number[]) => s.reduce((p, d) => p * d, 1);

/** Reference: C[...] = op(A)[...] · op(B)[...], batch dims broadcast as in numpy. */
function referenceMatMul(
  av: Float32Array,
  aShape: number[],
  bv: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): { values: Float64Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const aB = aShape.slice(0, ra - 2);
  const bB = bShape.slice(0, rb - 2);
  const rank = Math.max(aB.length, bB.length);
  const pa = [...new Array(rank - aB.length).fill(1), ...aB];
  const pb = [...new Array(rank - bB.length).fill(1), ...bB];
  const outB = pa.map((d, i) => Math.max(d, pb[i]));
  const total = prod(outB);
  const out = new Float64Array(total * m * n);
  for (let bi = 0; bi < total; bi++) {
    // multi-index of bi, then each side's flat batch index with size-1 dims pinned to 0
    let rem = bi;
    const idx = new Array(rank);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rem % outB[d];
      rem = Math.floor(rem / outB[d]);
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d]);
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const x = transposeA ? av[ia * ar * ac + p * ac + i] : av[ia * ar * ac + i * ac + p];
          const y = transposeB ? bv[ib * br * bc + j * bc + p] : bv[ib * br * bc + p * bc + j];
          s += x * y;
        }
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { values: out, shape: [...outB, m, n] };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= tol)) throw new Error(`max relative error ${worst} at ${at}: ${actual[at]} vs ${expected[at]} (tol ${tol})`);
}

// [aShape as stored, bShape as stored, transposeA, transposeB]
const CASES: [number[], number[], boolean, boolean][] = [
  [[1, 1], [1, 1], false, false],
  [[1, 7], [7, 1], false, false], // 1xN · Nx1
  [[7, 1], [1, 5], false, false], // outer product
  [[3, 5], [5, 4], false, false],
  [[5, 3], [5, 4], true, false],
  [[3, 5], [4, 5], false, true],
  [[5, 3], [4, 5], true, true],
  [[17, 33], [33, 9], false, false],
  [[33, 17], [9, 33], true, true],
  [[64, 64], [64, 64], false, false],
  [[65, 31], [31, 67], false, false],
  [[2, 3, 5], [2, 5, 4], false, false], // equal batches
  [[4, 3, 5], [5, 6], false, false], // batch x plain (folded into one call)
  [[4, 5, 3], [5, 6], true, false],
  [[3, 5], [4, 5, 6], false, false], // plain x batch
  [[1, 3, 5], [4, 5, 2], false, false], // batch of 1 broadcast
  [[2, 1, 3, 5], [1, 3, 5, 4], false, false], // both sides broadcast
  [[2, 1, 5, 3], [3, 4, 5], true, true],
  [[2, 2, 3, 8], [2, 2, 8, 3], false, false],
  [[2, 3, 1, 9], [3, 9, 1], false, false],
  [[6, 0], [0, 4], false, false], // empty inner dimension
  [[0, 3], [3, 4], false, false], // empty output
];

describe('BLAS matmul kernels', () => {
  const { blas, notes } = loadBlas();

  beforeAll(async () => {
    if (!blas) {
      throw new Error(`OpenBLAS is needed for these tests (npm test installs it through scripts/ensure-deps.js): ${notes.join('; ')}`);
    }
    installBlasKernels(blas);
    await tf.setBackend('cpu');
  });
  afterAll(() => uninstallBlasKernels());

  it('loads OpenBLAS and installs the kernels with OPENBLAS_NUM_THREADS set', () => {
    expect(blasKernelsInstalled()).toBe(blas);
    expect(blas!.library).toMatch(/openblas/);
    expect(process.env.OPENBLAS_NUM_THREADS).toBeDefined();
    expect(blas!.threads).toBe(Number(process.env.OPENBLAS_NUM_THREADS));
  });

  describe('BatchMatMul', () => {
    it.each(CASES.map((c) => [JSON.stringify(c), ...c] as const))('matches the reference for %s', (_, aShape, bShape, tA, tB) => {
      const rand = rng(aShape.length * 1000 + prod(aShape) * 7 + prod(bShape));
      const av = randomArray(prod(aShape), rand);
      const bv = randomArray(prod(bShape), rand);
      const ref = referenceMatMul(av, aShape, bv, bShape, tA, tB);
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB));
      expect(out.shape).toEqual(ref.shape);
      expectClose(out.dataSync(), ref.values, 1e-5);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('falls back to the original kernel for int32 inputs (exact integer result)', () => {
      const out = tf.matMul(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
          ],
          [2, 2],
          'int32',
        ),
        tf.tensor2d([[5], [6]], [2, 1], 'int32'),
      );
      expect(out.dtype).toBe('int32');
      expect(Array.from(out.dataSync())).toEqual([17, 39]);
    });

    it('rejects mismatched inner dimensions with the shapes in the message', () => {
      expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 2]))).toThrow(/inner shapes/);
    });
  });

  describe('_FusedMatMul', () => {
    const acts: Record<string, (x: number, i: number) => number> = {
      linear: (x) => x,
      relu: (x) => Math.max(0, x),
      relu6: (x) => Math.min(6, Math.max(0, x)),
      elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
      leakyrelu: (x) => (x < 0 ? 0.1 * x : x),
      sigmoid: (x) => 1 / (1 + Math.exp(-x)),
      prelu: (x, j) => (x < 0 ? 0.05 * (j + 1) * x : x),
    };
    // [aShape, bShape, transposeA, transposeB, biasShape]
    const fusedCases: [number[], number[], boolean, boolean, number[] | null][] = [
      [[5, 7], [7, 6], false, false, [6]],
      [[7, 5], [6, 7], true, true, [1, 6]],
      [[3, 5, 7], [7, 6], false, false, [6]],
      [[3, 5, 7], [7, 6], false, false, [5, 6]], // bias over rows too: the Add kernel path
      [[2, 5, 7], [2, 7, 6], false, false, [2, 1, 6]],
      [[4, 9], [9, 3], false, false, [1]],
      [[4, 9], [9, 3], false, false, null],
    ];
    for (const [act, f] of Object.entries(acts)) {
      it.each(fusedCases.map((c) => [JSON.stringify(c), ...c] as const))(`${act}: matches the reference for %s`, (_, aShape, bShape, tA, tB, biasShape) => {
        const rand = rng(prod(aShape) + prod(bShape) * 3 + act.length);
        const av = randomArray(prod(aShape), rand).map((x) => x * 3);
        const bv = randomArray(prod(bShape), rand);
        const ref = referenceMatMul(av, aShape, bv, bShape, tA, tB);
        const n = ref.shape[ref.shape.length - 1];
        const biasV = biasShape ? randomArray(prod(biasShape), rand) : null;
        const expected = new Float64Array(ref.values.length);
        const m = ref.shape[ref.shape.length - 2];
        for (let i = 0; i < expected.length; i++) {
          const j = i % n;
          const row = Math.floor(i / n) % m;
          const batch = Math.floor(i / (m * n));
          let bias = 0;
          if (biasV && biasShape) {
            // broadcast the bias from the right
            const bs = [...new Array(3 - biasShape.length).fill(1), ...biasShape];
            bias = biasV[(bs[0] === 1 ? 0 : batch) * bs[1] * bs[2] + (bs[1] === 1 ? 0 : row) * bs[2] + (bs[2] === 1 ? 0 : j)];
          }
          expected[i] = f(ref.values[i] + bias, j);
        }
        const before = tf.memory().numTensors;
        const out = tf.tidy(() =>
          tf.fused.matMul({
            a: tf.tensor(av, aShape),
            b: tf.tensor(bv, bShape),
            transposeA: tA,
            transposeB: tB,
            bias: biasV && biasShape ? tf.tensor(biasV, biasShape) : undefined,
            activation: act as tf.fused.Activation,
            leakyreluAlpha: 0.1,
            preluActivationWeights: act === 'prelu' ? tf.tensor1d(Array.from({ length: n }, (_, j) => 0.05 * (j + 1))) : undefined,
          }),
        );
        expect(out.shape).toEqual(ref.shape);
        expectClose(out.dataSync(), expected, 1e-5);
        out.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });

  describe('gradients', () => {
    // loss = sum(C ⊙ G), so dA[b] = G[b]·op(B[b])ᵀ-products and dB sums over broadcast batches.
    const gradCases: [number[], number[], boolean, boolean][] = [
      [[4, 6], [6, 5], false, false],
      [[6, 4], [5, 6], true, true],
      [[3, 4, 6], [6, 5], false, false], // b broadcast over the batch
      [[4, 6], [3, 5, 6], false, true], // a broadcast over the batch
      [[2, 1, 6, 4], [3, 6, 5], true, false],
    ];
    it.each(gradCases.map((c) => [JSON.stringify(c), ...c] as const))('tf.grads through matMul match the reference for %s', (_, aShape, bShape, tA, tB) => {
      const rand = rng(prod(aShape) * 13 + prod(bShape));
      const av = randomArray(prod(aShape), rand);
      const bv = randomArray(prod(bShape), rand);
      const out = referenceMatMul(av, aShape, bv, bShape, tA, tB);
      const gv = randomArray(out.values.length, rand);
      // numeric reference: dL/dA[i] = Σ over outputs of G * ∂C/∂A[i], by perturbation-free
      // enumeration: C is linear in A, so dA[i] = Σ G ⊙ C(A = e_i).
      const refGrad = (which: 'a' | 'b'): Float64Array => {
        const size = which === 'a' ? av.length : bv.length;
        const res = new Float64Array(size);
        for (let i = 0; i < size; i++) {
          const e = new Float32Array(size);
          e[i] = 1;
          const c = which === 'a' ? referenceMatMul(e, aShape, bv, bShape, tA, tB) : referenceMatMul(av, aShape, e, bShape, tA, tB);
          let s = 0;
          for (let j = 0; j < c.values.length; j++) s += c.values[j] * gv[j];
          res[i] = s;
        }
        return res;
      };
      const before = tf.memory().numTensors;
      const [da, db] = tf.tidy(() => {
        const g = tf.tensor(gv, out.shape);
        return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), g)))([tf.tensor(av, aShape), tf.tensor(bv, bShape)]);
      });
      expect(da.shape).toEqual(aShape);
      expect(db.shape).toEqual(bShape);
      expectClose(da.dataSync(), refGrad('a'), 1e-5);
      expectClose(db.dataSync(), refGrad('b'), 1e-5);
      tf.dispose([da, db]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('tf.grad through fused matMul with bias and relu masks the gradient where the pre-activation was negative', () => {
      // tfjs' fused matMul has its own gradient (a customGrad inside the op) that, unlike
      // BatchMatMul's, cannot be replaced from outside; it is right for equal batch shapes.
      const rand = rng(7);
      const [m, k, n] = [4, 6, 5];
      const av = randomArray(m * k, rand);
      const bv = randomArray(k * n, rand);
      const biasV = randomArray(n, rand);
      const gv = randomArray(m * n, rand);
      const pre = referenceMatMul(av, [m, k], bv, [k, n], false, false).values.map((x, i) => x + biasV[i % n]);
      const masked = new Float32Array(gv.map((x, i) => (pre[i] > 0 ? x : 0)));
      const [da, db, dbias] = tf.tidy(() => {
        const g = tf.tensor2d(gv, [m, n]);
        return tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
          tf.sum(tf.mul(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' }), g)),
        )([tf.tensor2d(av, [m, k]), tf.tensor2d(bv, [k, n]), tf.tensor1d(biasV)]);
      });
      expectClose(da.dataSync(), referenceMatMul(masked, [m, n], bv, [k, n], false, true).values, 1e-5);
      expectClose(db.dataSync(), referenceMatMul(av, [m, k], masked, [m, n], true, false).values, 1e-5);
      const refBias = new Float64Array(n);
      masked.forEach((x, i) => (refBias[i % n] += x));
      expectClose(dbias.dataSync(), refBias, 1e-5);
      tf.dispose([da, db, dbias]);
    });
  });

  it('uninstall restores the cpu kernels and install puts BLAS back', () => {
    uninstallBlasKernels();
    expect(blasKernelsInstalled()).toBeNull();
    const plain = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
    expect(plain).toBe(11);
    installBlasKernels(blas!);
    expect(blasKernelsInstalled()).toBe(blas);
    expect(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]).toBe(11);
  });
});
