import * as tf from '@tensorflow/tfjs-core';

/*
 * Where the native TensorFlow this project builds tfjs-node against (the PyPI tensorflow-cpu
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

let installed = false;

/** Registers the fixes on the 'tensorflow' backend once tfjs-node has registered its kernels. Idempotent. */
export function installTensorflowFixes(): void {
  if (installed) return;
  const round = tf.getKernel(tf.Round, 'tensorflow');
  const identity = tf.getKernel(tf.Identity, 'tensorflow');
  if (!round || !identity) return;
  tf.unregisterKernel(tf.Round, 'tensorflow');
  tf.registerKernel({ kernelName: tf.Round, backendName: 'tensorflow', kernelFunc: roundKernel(round.kernelFunc, identity.kernelFunc) });
  installed = true;
}
