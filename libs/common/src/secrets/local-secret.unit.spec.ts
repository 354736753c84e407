import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecret } from './local-secret';

describe('loadOrCreateSecret', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trellis-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a random 32-byte key readable only by its owner, and returns the same one afterwards', () => {
    const file = join(dir, 'nested', 'key');
    const first = loadOrCreateSecret(file);
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(file).equals(first)).toBe(true);
    expect(loadOrCreateSecret(join(dir, 'other')).equals(first)).toBe(false);
  });

  it('refuses a file that does not hold a hex key, naming the file', () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'not a key\n');
    expect(() => loadOrCreateSecret(file)).toThrow(`${file} does not hold a hex key`);
    expect(readFileSync(file, 'utf8')).toBe('not a key\n');
  });
});
