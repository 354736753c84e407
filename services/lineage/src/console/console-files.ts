import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A file of the built console, with what it is served as. */
export interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** A built asset's name: Vite's `name-hash.ext`, nothing that could leave the folder. */
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(js|css|svg|png|woff2|map)$/;

/**
 * The console as `npm start`'s set-up builds it (Vite, into dist/console at the repository's
 * root; TRELLIS_CONSOLE_DIR names another folder). The folder is read on each miss rather than
 * once, so a rebuild while the platform runs is served without a restart.
 */
export class ConsoleFiles {
  private readonly cache = new Map<string, ConsoleFile>();

  constructor(readonly dir: string = process.env.TRELLIS_CONSOLE_DIR || join(repositoryRoot(), 'dist', 'console')) {}

  /** index.html, or undefined when the console has not been built. */
  index(): Buffer | undefined {
    const path = join(this.dir, 'index.html');
    return existsSync(path) ? readFileSync(path) : undefined;
  }

  asset(name: string): ConsoleFile | undefined {
    const ext = ASSET_NAME.exec(name)?.[1];
    if (!ext) return undefined;
    const cached = this.cache.get(name);
    if (cached) return cached;
    const folder = join(this.dir, 'assets');
    if (!existsSync(folder) || !readdirSync(folder).includes(name)) return undefined;
    const file = { body: readFileSync(join(folder, name)), contentType: TYPES[`.${ext}`] };
    this.cache.set(name, file);
    return file;
  }
}

/** The folder holding Trellis's package.json, from the source tree or from dist/. */
function repositoryRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && existsSync(join(dir, 'console'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
