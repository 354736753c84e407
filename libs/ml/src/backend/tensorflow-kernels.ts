import * as tf from '@tensorflow/tfjs-core';

/*
 * Kernels replaced on the 'tensorflow' backend: a cheaper Reshape, and where the native TensorFlow this project builds tfjs-node against (the PyPI tensorflow-cpu
 * 2.21 wheel, infra/tensorflow.sh) differs from the libtensorflow 2.9 tfjs-node expects.
 * Found by running the ML library's unit suite on the 'tensorflow' backend; each fix is
 * checked against the cpu backend in ml-backend.unit.spec.ts.
 */

/** TF 2.21's Round on an int32 tensor returns zeros (2.9 returned the input): integers are already round. */
function roundKernel(original: tf.KernelFunc, identity: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    return x.dtype === 'int32' ? identity({ ...args, attrs: {} }) : original(args);
  };
}

/** The parts of tfjs-node's NodeJSKernelBackend the Reshape kernel uses. */
interface NodeBackend {
  binding: { TF_ATTR_TYPE: number };
  getDTypeInteger(dtype: tf.DataType): number;
  write(values: Int32Array, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
  executeSingleOutput(name: string, opAttrs: { name: string; type: number; value: number }[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

/** Shape tensors by shape, held by the backend only (no engine tensor, so tf.memory() does not count them). */
const shapeTensors = new Map<string, object>();
/** A training run uses a few dozen shapes; past this many something varies per call, so start over. */
const MAX_SHAPES = 4096;

/**
 * tfjs-node's Reshape uploads the new shape as a fresh int32 tensor on every call and disposes it
 * after: a reshape cost about twice an elementwise op here, and a LoRA step makes hundreds. This
 * one keeps one shape tensor per distinct shape in the backend and reuses it.
 */
function reshapeKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as NodeBackend;
  const shape = (args.attrs as unknown as tf.ReshapeAttrs).shape;
  const key = shape.join(',');
  let dataId = shapeTensors.get(key);
  if (!dataId) {
    if (shapeTensors.size >= MAX_SHAPES) {
      for (const id of shapeTensors.values()) backend.disposeData(id, true);
      shapeTensors.clear();
    }
    dataId = backend.write(Int32Array.from(shape), [shape.length], 'int32');
    shapeTensors.set(key, dataId);
  }
  const type = (name: string, dtype: tf.DataType) => ({ name, type: backend.binding.TF_ATTR_TYPE, value: backend.getDTypeInteger(dtype) });
  return backend.executeSingleOutput('Reshape', [type('T', x.dtype), type('Tshape', 'int32')], [x, { dataId, shape: [shape.length], dtype: 'int32' }]);
}

let installed = false;

/** Registers the fixes on the 'tensorflow' backend once tfjs-node has registered its kernels. Idempotent. */
export function installTensorflowFixes(): void {
  if (installed) return;
  const round = tf.getKernel(tf.Round, 'tensorflow');
  const identity = tf.getKernel(tf.Identity, 'tensorflow');
  if (!round || !identity) return;
  tf.unregisterKernel(tf.Round, 'tensorflow');
  tf.registerKernel({ kernelName: tf.Round, backendName: 'tensorflow', kernelFunc: roundKernel(round.kernelFunc, identity.kernelFunc) });
  if (tf.getKernel(tf.Reshape, 'tensorflow')) tf.unregisterKernel(tf.Reshape, 'tensorflow');
  tf.registerKernel({ kernelName: tf.Reshape, backendName: 'tensorflow', kernelFunc: reshapeKernel as unknown as tf.KernelFunc });
  installed = true;
}
