/**
 * `--json`, which every command that talks to the platform takes: stdout then carries exactly one
 * JSON document (the platform's answer, or the command's summary when it made several requests)
 * in place of the text it prints for people. Messages and progress stay on stderr, exit codes
 * are the same, and a command that fails before it has an answer leaves stdout empty.
 */
export const JSON_SWITCH = 'json';

/** `value` as the one document of a `--json` run, pretty-printed the same by every command. */
export function jsonDocument(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Prints a command's answer: its JSON under `--json`, else what `text` prints. */
export type Emit = (value: unknown, text: () => void) => void;

export function emitter(out: (text: string) => void, json: boolean): Emit {
  return (value, text) => (json ? out(jsonDocument(value)) : text());
}
