/**
 * `trellis <command> ...`: the operator's command line. Each service contributes its commands
 * in cli-commands.ts; they talk to a running platform over its REST API (TRELLIS_URL, default
 * http://127.0.0.1:3000) with an API token (TRELLIS_TOKEN), so the same CLI serves the embedded
 * default and a distributed deployment.
 */
import { CLI_COMMANDS } from './cli-commands';

function usage(): string {
  const lines = Object.entries(CLI_COMMANDS).map(([name, c]) => `  trellis ${name.padEnd(12)} ${c.summary}`);
  return ['usage:', ...lines, '', 'environment: TRELLIS_URL (default http://127.0.0.1:3000), TRELLIS_TOKEN (an API token)'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? CLI_COMMANDS[name] : undefined;
  if (!command) {
    console.error(name ? `unknown command ${JSON.stringify(name)}\n${usage()}` : usage());
    return 2;
  }
  return command.run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`trellis: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
