// The ML library's unit specs run on the backend the platform itself would pick on this machine
// (initMlBackend: native TensorFlow where infra/tensorflow.sh set it up, else cpu-blas, ...), so
// every numerical test holds on the backend that trains; TRELLIS_ML_BACKEND=<name> runs them on
// another. Specs about one backend's kernels choose it themselves. Other specs load no tfjs.
if (expect.getState().testPath?.includes('/libs/ml/')) {
  beforeAll(async () => {
    const { initMlBackend } = await import('@trellis/ml');
    await initMlBackend();
  });
}
