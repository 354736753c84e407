import { CliCommand, CliRefusedError, CliUsageError, EXIT } from './cli-command';

/** Where the runner writes: help to `out` (it was asked for), everything else to `err`. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: CliOutput = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

const HELP_FLAGS = new Set(['--help', '-h']);

export const EXIT_CODES_TEXT = 'exit codes: 0 ok, 1 failed (wholly or in part), 2 usage error, 3 refused by the platform';

/** The usage of `command`, or of its subcommand `sub` when it has one by that name. */
export function commandUsage(command: CliCommand, sub: string | undefined): string {
  return (sub !== undefined && command.subcommands?.[sub]) || command.usage;
}

/**
 * Turns what a command threw into one line on stderr and an exit code: usage errors add the
 * usage (2), refusals by the platform are 3, anything else 1. Expected failures never print a
 * stack trace; TRELLIS_DEBUG=1 does, for the unexpected ones.
 */
export function reportCliError(err: unknown, prefix: string, usage: string, write: (text: string) => void): number {
  if (err instanceof CliUsageError) {
    write(`${prefix}: ${err.message}\n${usage}`);
    return EXIT.usage;
  }
  if (err instanceof CliRefusedError) {
    write(`${prefix}: ${err.message}`);
    return EXIT.refused;
  }
  write(`${prefix}: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.TRELLIS_DEBUG && err instanceof Error && err.stack) write(err.stack);
  return EXIT.partlyFailed;
}

/**
 * `<program> <command> [args]`, `<program> help [command [subcommand]]`, and `--help`/`-h`
 * anywhere after the command: the one place that decides help and exit codes for every
 * command.
 */
export async function runCli(program: string, commands: Record<string, CliCommand>, argv: string[], output: CliOutput = processOutput): Promise<number> {
  const overall = overallUsage(program, commands);
  const [name, ...rest] = argv;
  if (name === undefined) {
    output.err(overall);
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(name) || (name === 'help' && rest.length === 0)) {
    output.out(overall);
    return EXIT.ok;
  }
  if (name === 'help') {
    const target = lookup(commands, rest[0]);
    if (!target) {
      output.err(`${program}: unknown command ${JSON.stringify(rest[0])}\n${overall}`);
      return EXIT.usage;
    }
    output.out(commandUsage(target, rest[1]));
    return EXIT.ok;
  }
  const command = lookup(commands, name);
  if (!command) {
    output.err(`${program}: unknown command ${JSON.stringify(name)}\n${overall}`);
    return EXIT.usage;
  }
  if (rest.some((a) => HELP_FLAGS.has(a))) {
    output.out(commandUsage(command, rest[0]));
    return EXIT.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportCliError(err, `${program} ${name}`, commandUsage(command, rest[0]), output.err);
  }
}

function lookup(commands: Record<string, CliCommand>, name: string): CliCommand | undefined {
  return Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
}

function overallUsage(program: string, commands: Record<string, CliCommand>): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  return [
    `usage: ${program} <command> [options]`,
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    `${program} <command> --help (or ${program} help <command>) shows a command's options and an example, e.g.`,
    `  ${program} ingest --help`,
    '',
    'environment: TRELLIS_URL (default http://127.0.0.1:3000), TRELLIS_TOKEN (an API token)',
    '--json (every command that talks to the platform): its answer as one JSON document on stdout; messages and progress stay on stderr',
    EXIT_CODES_TEXT,
  ].join('\n');
}
