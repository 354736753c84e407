import type { CliCommand } from './trellis.cli';

/** One entry per command; services add theirs here. */
export const CLI_COMMANDS: Record<string, CliCommand> = {};
