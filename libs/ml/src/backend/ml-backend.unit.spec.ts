import * as tf from '@tensorflow/tfjs-core';
import { expectRejection } from '../expect-exception.fixture';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { blasKernelsInstalled } from './blas-kernels';
import { elementwiseKernelsInstalled } from './elementwise-kernels';
import { measureMachineGflops, measureMatmulGflops } from './gflops';
import { initMlBackend, mlBackendReport } from './ml-backend';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

// infra/tensorflow.sh writes this marker last, once the binding built and loaded.
const nativeTensorflowSetUp = existsSync(join(__dirname, '../../../../node_modules/@tensorflow/tfjs-node/deps/.trellis-installed'));

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

  it('picks native TensorFlow where infra/tensorflow.sh set it up, else names that command and picks cpu-blas', async () => {
    const report = await initMlBackend({ prefer: ['tensorflow-gpu', 'tensorflow', 'cpu-blas', 'cpu'] });
    expect(report.notes[0]).toMatch(/^tensorflow-gpu: @tensorflow\/tfjs-node-gpu not available/);
    if (nativeTensorflowSetUp) {
      expect(report).toMatchObject({ name: 'tensorflow', tfjsBackend: 'tensorflow', blas: null });
      expect(blasKernelsInstalled()).toBeNull();
      expect(elementwiseKernelsInstalled()).toBe(false);
    } else {
      expect(report.notes[1]).toMatch(/^tensorflow: @tensorflow\/tfjs-node not available \(.*\); set it up with `bash infra\/tensorflow\.sh install`$/);
      expect(report.name).toBe('cpu-blas');
      expect(report.tfjsBackend).toBe('cpu');
      expect(report.blas?.library).toMatch(/openblas/);
      expect(report.blas?.threads).toBeGreaterThan(0);
      expect(blasKernelsInstalled()).not.toBeNull();
    }
    expect(mlBackendReport()).toEqual(report);
    expect(tf.getBackend()).toBe(report.tfjsBackend);
  });

  it('tensorflow: int32 Round gives its input back (TF 2.21 gives zeros) and float Round is untouched', async () => {
    if (!nativeTensorflowSetUp) {
      // Without the set-up the backend must refuse, not half-work.
      await expectRejection(initMlBackend({ prefer: ['tensorflow'] }), MlBackendException, MlBackendErrorCode.Unavailable, /infra\/tensorflow\.sh install/);
      return;
    }
    await initMlBackend({ prefer: ['tensorflow'] });
    expect(Array.from(tf.round(tf.tensor1d([7, -3, 0, 2147483647], 'int32')).dataSync())).toEqual([7, -3, 0, 2147483647]);
    // Banker's rounding, as on the cpu backend.
    expect(Array.from(tf.round(tf.tensor1d([1.4, 2.5, -1.5, 0.5, 3.5])).dataSync())).toEqual([1, 2, -2, 0, 4]);
    expect(tf.round(tf.tensor1d([1], 'int32')).dtype).toBe('int32');
  });

  it('tensorflow: Reshape with reused shape tensors gives the right values, counts no engine tensor, and survives many shapes', async () => {
    if (!nativeTensorflowSetUp) {
      await expectRejection(initMlBackend({ prefer: ['tensorflow'] }), MlBackendException, MlBackendErrorCode.Unavailable, /infra\/tensorflow\.sh install/);
      return;
    }
    await initMlBackend({ prefer: ['tensorflow'] });
    const x = tf.range(0, 24, 1, 'float32');
    const before = tf.memory().numTensors;
    const first = tf.tidy(() => Array.from(tf.reshape(x, [2, 3, 4]).slice([1, 2, 0], [1, 1, 4]).dataSync()));
    const again = tf.tidy(() => tf.reshape(x, [2, 3, 4]).shape);
    expect(first).toEqual([20, 21, 22, 23]);
    expect(again).toEqual([2, 3, 4]);
    expect(tf.tidy(() => tf.reshape(x, [-1, 6]).shape)).toEqual([4, 6]);
    expect(tf.tidy(() => Array.from(tf.reshape(tf.tensor1d([1, 2], 'int32'), [2, 1]).dataSync()))).toEqual([1, 2]);
    expect(tf.memory().numTensors).toBe(before);
    // More distinct shapes than the cache keeps: it starts over and every reshape stays right.
    const big = tf.zeros([5000 * 2]);
    for (let n = 1; n <= 5000; n++) tf.tidy(() => expect(tf.reshape(tf.slice(big, 0, 2 * n), [n, 2]).shape).toEqual([n, 2]));
    expect(tf.tidy(() => Array.from(tf.reshape(x, [4, 6]).slice([3, 0], [1, 6]).dataSync()))).toEqual([18, 19, 20, 21, 22, 23]);
    expect(tf.memory().numTensors).toBe(before + 1);
  });

  it('`npm run infra:tensorflow -- status` agrees with the backend, and the script explains its usage', () => {
    const root = join(__dirname, '../../../..');
    const status = spawnSync('npm', ['run', '--silent', 'infra:tensorflow', '--', 'status'], { cwd: root, encoding: 'utf8' });
    expect(status.status).toBe(nativeTensorflowSetUp ? 0 : 1);
    if (nativeTensorflowSetUp) expect(status.stdout.trim()).toMatch(/tfjs-node\/lib\/napi-v8\/tfjs_binding\.node$/);
    else expect(status.stderr).toMatch(/run: bash infra\/tensorflow\.sh install/);
    const usage = spawnSync('bash', ['infra/tensorflow.sh', 'bogus'], { cwd: root, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: .*tensorflow\.sh <install\|status>/);
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
