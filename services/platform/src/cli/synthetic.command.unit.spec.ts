import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const manifest = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(subjects).toHaveLength(2);
    // One image and one report per item.
    expect(manifest).toHaveLength(2 * 3 * 2);
    for (const row of manifest) expect(existsSync(join(out, row.path))).toBe(true);
  });

  it('rejects a bad option value with a message that names it, writing nothing', async () => {
    const out = join(dir, 'bad');
    await expect(syntheticCommand.run([out, '--subjects', '0'])).rejects.toThrow(/--subjects must be a positive integer/);
    await expect(syntheticCommand.run([out, '--format', 'gif'])).rejects.toThrow(/--format must be one of png, jpeg, dicom/);
    expect(await syntheticCommand.run([out, '--colour', 'red'])).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
