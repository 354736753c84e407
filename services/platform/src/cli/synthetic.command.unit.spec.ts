import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliUsageError } from '@trellis/cli';
import { syntheticCommand } from './synthetic.command';

describe('syntheticCommand', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-synthetic-'));
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the requested number of subjects and manifest rows', async () => {
    const out = join(dir, 'demo');
    expect(await syntheticCommand.run([out, '--subjects', '2', '--items-per-subject', '3', '--size', '32'])).toBe(0);
    const subjects = readFileSync(join(out, 'subjects.jsonl'), 'utf8').trim().split('\n');
    const manifest = readFileSync(join(out, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(subjects).toHaveLength(2);
    // One image and one report per item.
    expect(manifest).toHaveLength(2 * 3 * 2);
    for (const row of manifest) expect(existsSync(join(out, row.path))).toBe(true);
  });

  it('refuses a bad option as a usage error whose message names it, writing nothing', async () => {
    const out = join(dir, 'bad');
    await expect(syntheticCommand.run([out, '--subjects', '0'])).rejects.toThrow(/--subjects must be a positive integer/);
    await expect(syntheticCommand.run([out, '--format', 'gif'])).rejects.toThrow(/--format must be one of png, jpeg, dicom/);
    await expect(syntheticCommand.run([out, '--colour', 'red'])).rejects.toThrow(new CliUsageError('unknown option --colour'));
    await expect(syntheticCommand.run([])).rejects.toThrow(CliUsageError);
    expect(existsSync(out)).toBe(false);
  });

  it('writes a relative folder under the directory npm was started in (INIT_CWD), not the current one', async () => {
    const before = process.env.INIT_CWD;
    process.env.INIT_CWD = dir;
    try {
      expect(await syntheticCommand.run(['relative', '--subjects', '1', '--items-per-subject', '1', '--size', '16'])).toBe(0);
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
    expect(existsSync(join(dir, 'relative', 'manifest.jsonl'))).toBe(true);
  });
});
