import { mkdtemp, mkdir, symlink, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, parseManifest, resolveInside } from './manifest.parser';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and newlines, and keeps line numbers', () => {
    expect(parseCsv('a,b\n"x, y","say ""hi"""\r\n"multi\nline",z\n')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 3, cells: ['multi\nline', 'z'] },
    ]);
  });

  it('refuses an unclosed quote', () => {
    expect(() => parseCsv('a\n"open')).toThrow(/not closed/);
  });
});

describe('parseManifest', () => {
  it('maps column aliases and reports bad rows with their line', () => {
    const entries = parseManifest(
      'path,subjectRef,mime_type,describes\nimages/a.png,S0001,image/png,\nreports/a.txt,,text/plain,images/a.png\nonly-one-field\n',
      'csv',
    );
    expect(entries[0]).toEqual({ ok: true, row: { line: 2, path: 'images/a.png', subject: 'S0001', mimeType: 'image/png' } });
    expect(entries[1]).toMatchObject({ ok: false, line: 3, reason: 'BAD_ROW', message: expect.stringMatching(/no subject/) });
    expect(entries[2]).toMatchObject({ ok: false, line: 4, reason: 'BAD_ROW' });
  });

  it('reads JSON Lines and names lines that are not JSON objects', () => {
    const entries = parseManifest('{"path":"a.png","subjectRef":"S1","kind":"image"}\n\nnot json\n[1]\n', 'jsonl');
    expect(entries).toEqual([
      { ok: true, row: { line: 1, path: 'a.png', subject: 'S1', kind: 'image' } },
      { ok: false, line: 3, path: '', reason: 'BAD_ROW', message: 'line 3: not valid JSON' },
      { ok: false, line: 4, path: '', reason: 'BAD_ROW', message: 'line 4: not a JSON object' },
    ]);
  });

  it('needs a path column in a CSV header', () => {
    expect(() => parseManifest('file_name,subject\n', 'csv')).toThrow(/path/);
  });
});

describe('resolveInside', () => {
  let dir: string;
  let folder: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-manifest-'));
    folder = join(dir, 'data');
    await mkdir(join(folder, 'images'), { recursive: true });
    await writeFile(join(folder, 'images', 'a.png'), 'x');
    await writeFile(join(dir, 'secret.txt'), 'outside');
    await symlink(join(dir, 'secret.txt'), join(folder, 'images', 'link.txt'));
    await symlink(dir, join(folder, 'up'));
    await symlink(join(folder, 'images', 'a.png'), join(folder, 'inner-link.png'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('accepts a file inside the folder, also through a link that stays inside', async () => {
    expect(await resolveInside(folder, 'images/a.png')).toEqual({ ok: true, file: expect.stringMatching(/images\/a\.png$/) });
    expect(await resolveInside(folder, 'inner-link.png')).toMatchObject({ ok: true });
    expect(await resolveInside(folder, 'images/../images/a.png')).toMatchObject({ ok: true });
  });

  it.each(['../../etc/passwd', '/etc/passwd', '../secret.txt', 'images/link.txt', 'up/secret.txt', 'images/../../secret.txt'])(
    'refuses %s as escaping the folder',
    async (path) => {
      expect(await resolveInside(folder, path)).toMatchObject({ ok: false, reason: 'PATH_ESCAPES_FOLDER' });
    },
  );

  it('reports a missing file and a directory', async () => {
    expect(await resolveInside(folder, 'images/none.png')).toMatchObject({ ok: false, reason: 'MISSING_FILE' });
    expect(await resolveInside(folder, 'images')).toMatchObject({ ok: false, reason: 'BAD_ROW' });
  });
});
