import type { ChildProcess } from 'node:child_process';
import type { WorkerMessage } from './worker-protocol';
import { forkTrainingWorker } from './worker-process';

/** The messages a worker sends until it exits or `until` says stop. */
function messages(worker: ChildProcess, until: (m: WorkerMessage) => boolean): Promise<WorkerMessage[]> {
  const seen: WorkerMessage[] = [];
  return new Promise((resolve) => {
    worker.on('message', (m: WorkerMessage) => {
      seen.push(m);
      if (until(m)) resolve(seen);
    });
    worker.once('exit', () => resolve(seen));
  });
}

describe('training worker', () => {
  it('says it is ready once loaded with the ML backend initialised, before any job, and then takes a job', async () => {
    const worker = forkTrainingWorker();
    try {
      expect(await messages(worker, (m) => m.type === 'ready')).toEqual([{ type: 'ready' }]);
      // A job whose base model is not there: the worker reports the failure and exits, as it does for any job.
      const answered = messages(worker, (m) => m.type === 'failed');
      worker.send({ type: 'base-model', job: { kind: 'inspect', dir: '/nonexistent/trellis-base-model' } });
      expect((await answered).map((m) => m.type)).toContain('failed');
    } finally {
      worker.kill('SIGKILL');
    }
  });
});
