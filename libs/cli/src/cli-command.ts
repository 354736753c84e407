/** Exit codes of every `trellis` command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** Some items failed (e.g. files rejected); the rest were done. */
  partlyFailed: 1,
  /** Bad usage: unknown command or option, missing or malformed value. */
  usage: 2,
  /** The platform refused: bad credentials, missing role, or a rule said no. */
  refused: 3,
} as const;

export interface CliCommand {
  /** One line for the overall usage text. */
  summary: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Bad usage; the runner prints the message and the command's usage and exits 2. */
export class CliUsageError extends Error {}

/** The platform refused the request; the runner exits 3. */
export class CliRefusedError extends Error {}
