import { CliUsageError } from './cli-command';
import { platformErrorFromText } from './trellis-http.client';

/**
 * The small checks every `trellis` subcommand makes of its arguments, and the one way each turns
 * a platform answer into a value or an error. Messages quote what the user typed (it is their
 * own terminal), never anything from the platform.
 */

/** The whole usage of a command with subcommands: one line, then each subcommand's usage. */
export function subcommandsUsage(command: string, table: Record<string, string>): string {
  return [`usage: trellis ${command} <subcommand> ...`, ...Object.values(table).map((u) => u.replace(/^usage: /, ''))].join('\n\n');
}

/** `--name`'s value; a usage error when it is missing or empty. */
export function requireFlag(flags: Record<string, string>, name: string): string {
  const v = flags[name];
  if (v === undefined || v === '') throw new CliUsageError(`--${name} is required`);
  return v;
}

/** `--name` as a finite number (undefined when left out and not required). */
export function numberFlag(flags: Record<string, string>, name: string, required = false): number | undefined {
  const raw = required ? requireFlag(flags, name) : flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new CliUsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A whole number the user typed (a version, a position); `what` names it in the error. */
export function wholeNumber(raw: string, what: string): number {
  if (!/^\d+$/.test(raw)) throw new CliUsageError(`${what} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Refuses any flag not in `known`. */
export function onlyFlags(flags: Record<string, string>, known: string[]): void {
  const unknown = Object.keys(flags).filter((f) => !known.includes(f));
  if (unknown.length > 0) throw new CliUsageError(`unknown option --${unknown[0]}`);
}

/** Exactly these positional arguments, in order; names the first missing or extra one. */
export function positionals(positional: string[], names: string[]): string[] {
  if (positional.length < names.length) throw new CliUsageError(`${names[positional.length]} is required`);
  if (positional.length > names.length) throw new CliUsageError(`unexpected argument ${JSON.stringify(positional[names.length])}`);
  return positional;
}

/** `?a=1&b=2` of the values given (undefined ones left out), URL-encoded; '' when none. */
export function queryString(q: Record<string, string | undefined>): string {
  const s = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
  return s ? `?${s}` : '';
}

/** The answer when its status is one of `ok`, else the platform's error (refusals exit 3). */
export function expectStatus<R extends { status: number; text: string }>(r: R, ok: number[]): R {
  if (!ok.includes(r.status)) throw platformErrorFromText(undefined, r);
  return r;
}

/** The answer's body: parsed when it is JSON, the text otherwise. */
export function bodyOf<T>(r: { text: string }): T {
  const type = r.text.trimStart()[0];
  return (type === '{' || type === '[' ? JSON.parse(r.text) : r.text) as T;
}
