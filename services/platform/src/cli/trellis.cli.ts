/**
 * `trellis <command> ...`: the operator's command line, run by bin/trellis.js from the compiled
 * output. Each service contributes its commands in cli-commands.ts; they talk to a running
 * platform over its REST API (TRELLIS_URL, default http://127.0.0.1:3000) with an API token
 * (TRELLIS_TOKEN), so the same CLI serves the embedded default and a distributed deployment.
 */
import { runCli } from '@trellis/cli';
import { CLI_COMMANDS } from './cli-commands';

export function runTrellisCli(argv: string[]): Promise<number> {
  return runCli('trellis', CLI_COMMANDS, argv);
}

if (require.main === module) {
  runTrellisCli(process.argv.slice(2)).then((code) => process.exit(code));
}
