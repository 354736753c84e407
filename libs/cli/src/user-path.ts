import { resolve } from 'node:path';

/**
 * A path the user typed, made absolute against the directory they typed it in. `npm run` and
 * bin/trellis.js run the CLI from the repository root (so defaults such as `.trellis/data` are
 * the platform's), and npm keeps the user's directory in INIT_CWD.
 */
export function userPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INIT_CWD || process.cwd(), path);
}
