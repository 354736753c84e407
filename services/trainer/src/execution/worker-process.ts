import type { ChildProcess } from 'node:child_process';
import { forkWorkerScript } from '@trellis/runtime';

/** Forks a training worker (training-worker.ts beside this file; from source or compiled). */
export function forkTrainingWorker(): ChildProcess {
  return forkWorkerScript(__dirname, 'training-worker');
}
