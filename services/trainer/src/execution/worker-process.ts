import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function repoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'tsconfig.json'))) return dir;
  throw new Error(`no tsconfig.json above ${from}`);
}

/**
 * Forks a training worker (training-worker.ts): through ts-node when the trainer runs from
 * source (tests, `ts-node`), the compiled file otherwise. Its stdout and stderr are the
 * trainer's; messages go over IPC. A separate process rather than a worker thread: native
 * TensorFlow's binding is loaded once per process, a run's memory is returned whole when it
 * ends, and a worker that crashes or is killed takes nothing else with it.
 */
export function forkTrainingWorker(): ChildProcess {
  const fromSource = __filename.endsWith('.ts');
  const root = repoRoot(__dirname);
  if (fromSource) {
    return fork(join(__dirname, 'training-worker.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  return fork(join(__dirname, 'training-worker.js'), [], {
    execArgv: ['-r', join(root, 'scripts', 'register-paths.js')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
