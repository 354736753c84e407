import * as tf from '@tensorflow/tfjs-core';
import { expectRejection } from '../expect-exception.fixture';
import { blasKernelsInstalled } from './blas-kernels';
import { measureMachineGflops, measureMatmulGflops } from './gflops';
import { initMlBackend, mlBackendReport } from './ml-backend';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

describe('initMlBackend', () => {
  const saved = process.env.TRELLIS_ML_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.TRELLIS_ML_BACKEND;
    else process.env.TRELLIS_ML_BACKEND = saved;
  });
  beforeEach(() => delete process.env.TRELLIS_ML_BACKEND);
  afterAll(async () => {
    await initMlBackend({ prefer: ['cpu'] });
  });

  it('passes over tfjs-node when it is not installed and picks cpu-blas, naming the library', async () => {
    const report = await initMlBackend({ prefer: ['tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] });
    // tfjs-node is no dependency of this repository; if a developer installed it, it wins.
    if (report.name === 'cpu-blas') {
      expect(report.notes.some((n) => n.startsWith('tensorflow: @tensorflow/tfjs-node not available'))).toBe(true);
      expect(report.tfjsBackend).toBe('cpu');
      expect(report.blas?.library).toMatch(/openblas/);
      expect(report.blas?.threads).toBeGreaterThan(0);
      expect(blasKernelsInstalled()).not.toBeNull();
    } else {
      expect(report.name).toMatch(/^tensorflow/);
    }
    expect(mlBackendReport()).toEqual(report);
    expect(tf.getBackend()).toBe(report.tfjsBackend);
  });

  it('plain cpu puts the original kernels back and says it is slow', async () => {
    const report = await initMlBackend({ prefer: ['cpu'] });
    expect(report).toMatchObject({ name: 'cpu', tfjsBackend: 'cpu', blas: null });
    expect(report.notes.join('\n')).toMatch(/infra\/blas\.sh install/);
    expect(blasKernelsInstalled()).toBeNull();
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it('TRELLIS_ML_BACKEND forces a backend over the preference list', async () => {
    process.env.TRELLIS_ML_BACKEND = 'wasm';
    const report = await initMlBackend({ prefer: ['cpu'] });
    expect(report.name).toBe('wasm');
    expect(report.tfjsBackend).toBe('wasm');
    expect(report.notes[0]).toBe('forced by TRELLIS_ML_BACKEND=wasm');
    expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
  });

  it('rejects an unknown TRELLIS_ML_BACKEND listing the valid names', async () => {
    process.env.TRELLIS_ML_BACKEND = 'tpu';
    const error = await expectRejection(
      initMlBackend(),
      MlBackendException,
      MlBackendErrorCode.InvalidOptions,
      'TRELLIS_ML_BACKEND=tpu is not a backend; valid: tensorflow-gpu, tensorflow, cpu-blas, wasm, cpu',
    );
    expect(error.fields).toEqual(['TRELLIS_ML_BACKEND']);
  });

  it('rejects an unknown name in prefer before trying any backend', async () => {
    await expectRejection(
      initMlBackend({ prefer: ['cpu', 'tpu' as never] }),
      MlBackendException,
      MlBackendErrorCode.InvalidOptions,
      'initMlBackend: prefer holds unknown backends tpu; valid: tensorflow-gpu, tensorflow, cpu-blas, wasm, cpu',
    );
  });

  it('fails with every reason when nothing in the list can be had', async () => {
    const error = await expectRejection(
      initMlBackend({ prefer: ['tensorflow-gpu'] }),
      MlBackendException,
      MlBackendErrorCode.Unavailable,
      /no ML backend could be initialised:\ntensorflow-gpu: @tensorflow\/tfjs-node-gpu not available/,
    );
    expect(error.transient).toBe(false);
  });
});

describe('GFLOP/s probes', () => {
  it('measureMatmulGflops times tf.matMul on the active backend', async () => {
    await initMlBackend({ prefer: ['cpu-blas', 'cpu'] });
    const g = await measureMatmulGflops(64);
    expect(Number.isFinite(g) && g > 0).toBe(true);
  });

  it('measureMachineGflops times raw sgemm when OpenBLAS is there', () => {
    const g = measureMachineGflops(64);
    expect(g === null || (Number.isFinite(g) && g > 0)).toBe(true);
    if (mlBackendReport()?.name === 'cpu-blas') expect(g).not.toBeNull();
  });
});
