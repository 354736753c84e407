import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleFiles } from './console-files';

describe(ConsoleFiles.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has no page before the console is built', () => {
    expect(new ConsoleFiles(dir).index()).toBeUndefined();
  });

  it('serves the built page and its assets with their types, and picks up a rebuild', () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<html>one</html>');
    writeFileSync(join(dir, 'assets', 'index-AbC_1.js'), 'js');
    writeFileSync(join(dir, 'assets', 'index-D2.css'), 'css');
    const files = new ConsoleFiles(dir);
    expect(files.index()?.toString()).toBe('<html>one</html>');
    expect(files.asset('index-AbC_1.js')).toEqual({ body: Buffer.from('js'), contentType: 'text/javascript; charset=utf-8' });
    expect(files.asset('index-D2.css')?.contentType).toBe('text/css; charset=utf-8');
    writeFileSync(join(dir, 'index.html'), '<html>two</html>');
    writeFileSync(join(dir, 'assets', 'index-New.js'), 'new');
    expect(files.index()?.toString()).toBe('<html>two</html>');
    expect(files.asset('index-New.js')?.body.toString()).toBe('new');
  });

  it('serves nothing outside its assets folder, nor files of other kinds', () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'secret.js'), 'no');
    writeFileSync(join(dir, 'assets', 'notes.txt'), 'no');
    const files = new ConsoleFiles(dir);
    for (const name of ['../secret.js', '..%2Fsecret.js', '.js', 'notes.txt', 'missing.js', 'a/b.js', '', '....js']) expect(files.asset(name)).toBeUndefined();
  });
});
