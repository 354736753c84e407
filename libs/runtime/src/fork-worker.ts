import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function repoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'tsconfig.json'))) return dir;
  throw new Error(`no tsconfig.json above ${from}`);
}

/**
 * Forks a worker script that sits beside the caller (`dir` is the caller's __dirname, `name`
 * the script without extension): through ts-node when the service runs from source (tests,
 * `ts-node`), the compiled file otherwise. Its stdout and stderr are the service's; messages go
 * over IPC. A separate process rather than a worker thread: native TensorFlow's binding is loaded
 * once per process, a job's memory is returned whole when it ends, and a worker that crashes or
 * is killed takes nothing else with it.
 */
export function forkWorkerScript(dir: string, name: string): ChildProcess {
  const root = repoRoot(dir);
  if (existsSync(join(dir, `${name}.ts`)) && !existsSync(join(dir, `${name}.js`))) {
    return fork(join(dir, `${name}.ts`), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  return fork(join(dir, `${name}.js`), [], {
    execArgv: ['-r', join(root, 'scripts', 'register-paths.js')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
