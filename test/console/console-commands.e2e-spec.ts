import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const GENERATED = join(ROOT, 'console', 'src', 'api', 'graphql.generated.ts');

/** The README's command line that starts with `command`, as written (without its comment). */
function readmeLine(command: string): string[] {
  const line = README.split('\n').find((l) => l.startsWith(command));
  expect(line).toBeDefined();
  return line!.replace(/#.*$/, '').trim().split(/\s+/);
}

// The console's two commands, run as the README writes them.
describe('the console commands in the README', () => {
  it('npm run console:codegen writes the client types, which are those committed', () => {
    const before = readFileSync(GENERATED, 'utf8');
    const [cmd, ...args] = readmeLine('npm run console:codegen');
    const run = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect([run.status, run.stderr]).toEqual([0, expect.anything()]);
    expect(run.stdout).toContain('wrote console/src/api/graphql.generated.ts');
    expect(readFileSync(GENERATED, 'utf8')).toBe(before);
  });

  it('npm run console:build builds dist/console when console/ changed, and the page names files that exist', () => {
    // A source newer than the last build: the command must build again.
    const now = new Date();
    utimesSync(join(ROOT, 'console', 'src', 'main.tsx'), now, now);
    const [cmd, ...args] = readmeLine('npm run console:build');
    const run = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect([run.status, run.stderr]).toEqual([0, expect.stringContaining('console built in')]);
    const page = readFileSync(join(ROOT, 'dist', 'console', 'index.html'), 'utf8');
    const assets = [...page.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const a of assets) expect(existsSync(join(ROOT, 'dist', 'console', a))).toBe(true);
    // Current now: run again, nothing to build.
    const again = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect([again.status, again.stderr]).toEqual([0, expect.not.stringContaining('building the web console')]);
  });
});
