/**
 * The worker process of one training run (forked by RunExecutor). It takes one job over IPC,
 * reports over IPC and exits. When its trainer process dies (even by SIGKILL) the IPC channel
 * closes and the worker exits at its next step boundary, so a dead trainer leaves no orphan
 * training on; the run is resumed from its last checkpoint by whichever trainer takes it over.
 */
import 'reflect-metadata';
import { initMlBackend } from '@trellis/ml';
import { runBaseModelJob } from './base-model-job';
import { JobHost, runTrainingJob } from './training-job';
import type { TrainerMessage, WorkerMessage } from './worker-protocol';

let cancelled = false;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

/**
 * The default ML backend, initialised while the worker waits for a job (a spare worker waits
 * between runs): loading native TensorFlow takes some hundreds of milliseconds a run would
 * otherwise wait for. A job that names another backend (a resumed run keeps its own) switches
 * to it; a failure here is the job's to report, when it initialises its own.
 */
const warm = initMlBackend().then(
  () => send({ type: 'ready' }),
  () => undefined,
);

process.on('disconnect', () => process.exit(3));
process.on('message', (raw: TrainerMessage) => {
  if (raw.type === 'cancel') {
    cancelled = true;
    return;
  }
  const pending: Promise<void>[] = [];
  const host: JobHost = {
    send: (m) => pending.push(send(m)),
    cancelRequested: () => cancelled,
    yield: () => new Promise((resolve) => setImmediate(resolve)),
  };
  void warm
    .then(() => (raw.type === 'job' ? runTrainingJob(raw.job, host) : runBaseModelJob(raw.job, host)))
    .then(() => Promise.all(pending))
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
