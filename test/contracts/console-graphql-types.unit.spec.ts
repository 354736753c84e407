import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

// The console's GraphQL client types are generated from schema.gql and its operations; a change
// to either without `npm run console:codegen` would let the console and the API drift apart. The
// generator's plugins are ESM-only, which jest's CommonJS runtime cannot load: it runs as the
// npm script does, in its own process.
describe('console GraphQL client types', () => {
  it('are what npm run console:codegen generates from schema.gql and the console operations', () => {
    const run = spawnSync('npm', ['run', '--silent', 'console:codegen', '--', '--print'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(ROOT, 'console', 'src', 'api', 'graphql.generated.ts'), 'utf8'));
  });
});
