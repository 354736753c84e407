import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ustarEnd, ustarEntry, ustarHeader } from './ustar';

const mtime = new Date('2026-01-02T03:04:05Z');

describe('ustar', () => {
  describe('ustarHeader', () => {
    it('writes name, octal size and a checksum over the header with its own field as spaces', () => {
      const h = ustarHeader('images/a.png', 1234, mtime);
      expect(h).toHaveLength(512);
      expect(h.subarray(0, 12).toString('ascii')).toBe('images/a.png');
      expect(h.subarray(124, 136).toString('ascii')).toBe(`${(1234).toString(8).padStart(11, '0')}\0`);
      expect(h.subarray(257, 263).toString('ascii')).toBe('ustar\0');
      const copy = Buffer.from(h);
      copy.write('        ', 148, 8, 'ascii');
      const sum = copy.reduce((s, b) => s + b, 0);
      expect(parseInt(h.subarray(148, 154).toString('ascii'), 8)).toBe(sum);
    });

    it('refuses a name that is too long or not printable ASCII, and a negative size', () => {
      expect(() => ustarHeader('x'.repeat(101), 1, mtime)).toThrow(/at most 100 bytes/);
      expect(() => ustarHeader('a b', 1, mtime)).toThrow(/printable ASCII/);
      expect(() => ustarHeader('a', -1, mtime)).toThrow(/too large/);
    });
  });

  describe('ustarEntry', () => {
    it.each([0, 1, 511, 512, 513, 5000])('pads %i bytes of data to whole blocks', (n) => {
      const total = ustarEntry('f', Buffer.alloc(n, 7), mtime).reduce((s, b) => s + b.length, 0);
      expect(total % 512).toBe(0);
      expect(total).toBe(512 + Math.ceil(n / 512) * 512);
    });

    it('makes an archive that the system tar reads back byte for byte', () => {
      const tar = spawnSync('tar', ['--version']);
      if (tar.status !== 0) return; // no tar on this machine: the header checks above still ran
      const dir = mkdtempSync(join(tmpdir(), 'ustar-'));
      try {
        const files: [string, Buffer][] = [
          ['set.json', Buffer.from('{"a":1}\n')],
          ['images/abc.png', Buffer.alloc(700, 3)],
        ];
        writeFileSync(join(dir, 'out.tar'), Buffer.concat([...files.flatMap(([n, d]) => ustarEntry(n, d, mtime)), ustarEnd()]));
        const listed = spawnSync('tar', ['-tf', join(dir, 'out.tar')], { encoding: 'utf8' });
        expect(listed.stdout.trim().split('\n')).toEqual(['set.json', 'images/abc.png']);
        expect(spawnSync('tar', ['-xf', join(dir, 'out.tar'), '-C', dir]).status).toBe(0);
        for (const [n, d] of files) expect(readFileSync(join(dir, n)).equals(d)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
