import * as tf from '@tensorflow/tfjs-core';
import { CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, loadBlas } from './blas-library';

function randomMatrix(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  return m;
}

function bestOf(runs: number, f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return best;
}

/** GFLOP/s (2n³ per product, best of 3 after a warm-up) of tf.matMul on the active backend. */
export async function measureMatmulGflops(n: number): Promise<number> {
  const a = tf.tensor2d(randomMatrix(n), [n, n]);
  const b = tf.tensor2d(randomMatrix(n), [n, n]);
  try {
    const once = async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    };
    await once();
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      await once();
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return (2 * n ** 3) / best / 1e9;
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * GFLOP/s of raw OpenBLAS sgemm on n×n matrices (no tfjs in between): what this machine can
 * do, to compare a backend against. null when no OpenBLAS can be loaded.
 */
export function measureMachineGflops(n: number): number | null {
  const { blas } = loadBlas();
  if (!blas) return null;
  const a = randomMatrix(n);
  const b = randomMatrix(n);
  const c = new Float32Array(n * n);
  const run = () => blas.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1, a, n, b, n, 0, c, n);
  run();
  return (2 * n ** 3) / bestOf(3, run) / 1e9;
}
