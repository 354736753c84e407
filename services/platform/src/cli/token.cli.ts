/**
 * `token <subcommand>`: the token command alone, as `npm run token -- ...` and older scripts
 * call it; bin/trellis.js runs the same command as `trellis token`.
 */
import { runCli } from '@trellis/cli';
import { tokenCommand } from './token.command';

export function runTokenCli(argv: string[]): Promise<number> {
  return runCli('trellis', { token: tokenCommand }, ['token', ...argv]);
}

if (require.main === module) {
  runTokenCli(process.argv.slice(2)).then((code) => process.exit(code));
}
