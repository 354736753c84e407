import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './tfjs-registrations';
import { loadBlas } from './blas-library';
import { blasKernelsInstalled, installBlasKernels, uninstallBlasKernels } from './blas-kernels';
import { installElementwiseKernels, uninstallElementwiseKernels } from './elementwise-kernels';
import { installTensorflowFixes } from './tensorflow-kernels';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

export type MlBackendName = 'tensorflow-gpu' | 'tensorflow' | 'cpu-blas' | 'wasm' | 'cpu';

export const ML_BACKEND_NAMES: readonly MlBackendName[] = ['tensorflow-gpu', 'tensorflow', 'cpu-blas', 'wasm', 'cpu'];

export interface MlBackendReport {
  name: MlBackendName;
  /** tf.getBackend() after the choice: 'tensorflow', 'cpu' (also for cpu-blas) or 'wasm'. */
  tfjsBackend: string;
  blas: { library: string; threads: number } | null;
  /** Why each preferred backend before the chosen one was passed over, and other facts. */
  notes: string[];
}

export interface MlBackendOptions {
  /** Backends to try, in order; default ML_BACKEND_NAMES. TRELLIS_ML_BACKEND overrides it. */
  prefer?: MlBackendName[];
}

let report: MlBackendReport | null = null;

/** Loads a package whose native part may be absent (tfjs-node, tfjs-node-gpu), without the compiler resolving it. */
function optionalRequire(name: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native backend, absent on most machines
  return require(name);
}

async function tryBackend(name: MlBackendName, notes: string[]): Promise<boolean> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      // TensorFlow's C++ start-up chatter (CPU feature notes) on stderr; errors still show.
      process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
      try {
        optionalRequire(pkg);
      } catch (err) {
        // tfjs-node is a dependency, but its binding exists only once infra/tensorflow.sh built it.
        const hint = name === 'tensorflow' ? '; set it up with `bash infra/tensorflow.sh install`' : '';
        notes.push(`${name}: ${pkg} not available (${firstLine(err)})${hint}`);
        return false;
      }
      installTensorflowFixes();
      // Both packages register the backend as 'tensorflow'.
      if (!(await setBackend('tensorflow', name, notes))) return false;
      uninstallBlasKernels();
      uninstallElementwiseKernels();
      return true;
    }
    case 'cpu-blas': {
      const { blas, notes: blasNotes } = loadBlas();
      if (!blas) {
        notes.push(...blasNotes.map((n) => `cpu-blas: ${n}`));
        return false;
      }
      installBlasKernels(blas);
      installElementwiseKernels();
      return setBackend('cpu', name, notes);
    }
    case 'wasm': {
      try {
        optionalRequire('@tensorflow/tfjs-backend-wasm');
      } catch (err) {
        notes.push(`wasm: @tensorflow/tfjs-backend-wasm not available (${firstLine(err)})`);
        return false;
      }
      return setBackend('wasm', name, notes);
    }
    case 'cpu':
      uninstallBlasKernels();
      uninstallElementwiseKernels();
      return setBackend('cpu', name, notes);
  }
}

async function setBackend(tfjsName: string, name: MlBackendName, notes: string[]): Promise<boolean> {
  try {
    if (await tf.setBackend(tfjsName)) {
      await tf.ready();
      return true;
    }
    notes.push(`${name}: tf.setBackend('${tfjsName}') returned false`);
  } catch (err) {
    notes.push(`${name}: ${firstLine(err)}`);
  }
  return false;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

function parseForced(value: string): MlBackendName {
  if ((ML_BACKEND_NAMES as readonly string[]).includes(value)) return value as MlBackendName;
  const message = `TRELLIS_ML_BACKEND=${value} is not a backend; valid: ${ML_BACKEND_NAMES.join(', ')}`;
  throw new MlBackendException(MlBackendErrorCode.InvalidOptions, message, ['TRELLIS_ML_BACKEND']);
}

/**
 * Picks the fastest backend that works here: tfjs-node-gpu (not a dependency: it needs CUDA),
 * tfjs-node (native TensorFlow, once infra/tensorflow.sh built its binding against the PyPI
 * tensorflow-cpu wheel), the cpu backend with OpenBLAS matmul kernels, wasm, then plain cpu. TRELLIS_ML_BACKEND=<name>
 * forces one (and fails if it cannot be had). Safe to call again; each call re-decides.
 */
export async function initMlBackend(options: MlBackendOptions = {}): Promise<MlBackendReport> {
  // The report says which backend runs and why; tfjs's own console banner ("install the node
  // backend") on the first tensor would only repeat it, misleadingly, on every start.
  tf.env().set('PROD', true);
  const forced = process.env.TRELLIS_ML_BACKEND;
  const order = forced ? [parseForced(forced)] : (options.prefer ?? [...ML_BACKEND_NAMES]);
  if (order.length === 0) {
    throw new MlBackendException(MlBackendErrorCode.InvalidOptions, `initMlBackend: prefer is empty; valid: ${ML_BACKEND_NAMES.join(', ')}`, ['prefer']);
  }
  const unknown = order.filter((name) => !ML_BACKEND_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new MlBackendException(
      MlBackendErrorCode.InvalidOptions,
      `initMlBackend: prefer holds unknown backends ${unknown.join(', ')}; valid: ${ML_BACKEND_NAMES.join(', ')}`,
      ['prefer'],
    );
  }
  const notes: string[] = forced ? [`forced by TRELLIS_ML_BACKEND=${forced}`] : [];
  for (const name of order) {
    if (await tryBackend(name, notes)) {
      const blas = name === 'cpu-blas' ? blasKernelsInstalled() : null;
      if (name === 'cpu')
        notes.push('cpu: plain JavaScript kernels (matmul well under 1 GFLOP/s); install OpenBLAS with `bash infra/blas.sh install` for cpu-blas');
      if (blas) notes.push(`cpu-blas: ${blas.config}`);
      report = {
        name,
        tfjsBackend: tf.getBackend(),
        blas: blas ? { library: blas.library, threads: blas.threads } : null,
        notes,
      };
      return report;
    }
  }
  throw new MlBackendException(MlBackendErrorCode.Unavailable, `no ML backend could be initialised:\n${notes.join('\n')}`);
}

/** The report of the last initMlBackend call, or null before the first. */
export function mlBackendReport(): MlBackendReport | null {
  return report;
}
