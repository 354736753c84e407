import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MIGRATIONS } from '../../migrations';

const root = join(__dirname, '..', '..');

describe('npm run migration:run', () => {
  it('applies the migrations to DATABASE_URL and says how many are applied', () => {
    const run = spawnSync('npm', ['run', '--silent', 'migration:run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: process.env.TRELLIS_TEST_DATABASE_URL },
      timeout: 120_000,
    });
    expect(run.stderr).not.toMatch(/Error:|Cannot find/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`schema up to date: ${MIGRATIONS.length} of ${MIGRATIONS.length} migrations applied`);
  });

  it('exits 1 with one line when the database cannot be reached', () => {
    const run = spawnSync('npm', ['run', '--silent', 'migration:run'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'postgres://nobody:wrong@127.0.0.1:1/none' },
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^migration:run: /m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
