/** Exit codes of every `trellis` command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** Failed, wholly or in part: some items were rejected, the platform was unreachable, a file was missing. */
  partlyFailed: 1,
  /** Bad usage: unknown command or option, missing or malformed value. */
  usage: 2,
  /** The platform refused: bad credentials, missing role, or a rule said no (a 4xx answer). */
  refused: 3,
} as const;

export interface CliCommand {
  /** One line for the overall usage text. */
  summary: string;
  /** The whole usage, with at least one example; printed on --help and after a usage error. */
  usage: string;
  /** Each subcommand's own usage (with an example), for `trellis <command> <subcommand> --help`. */
  subcommands?: Record<string, string>;
  /** Returns the process exit code; throws CliUsageError, CliRefusedError or any Error. */
  run(argv: string[]): Promise<number>;
}

/** Bad usage; the runner prints the message and the command's usage and exits 2. */
export class CliUsageError extends Error {}

/** The platform refused the request; the runner exits 3. */
export class CliRefusedError extends Error {}
