import { readFile } from 'node:fs/promises';
import { CliCommand, CliUsageError, errorText, TrellisHttpClient, userPath } from '@trellis/cli';

export const SUBJECTS_USAGE = `usage: trellis subjects import <subjects.jsonl>
  Registers data subjects and their consents; subjects already known are skipped.
  one JSON object a line: subjectRef, name, birthDate, mrn, consents [{ purposes, decision, start, withdrawn }]
  exit code 1 when any line failed (each listed)
example:
  trellis subjects import demo/subjects.jsonl`;

interface SubjectLine {
  subjectRef: string;
  name?: string;
  birthDate?: string;
  mrn?: string;
  consents?: { purposes: string[]; decision?: 'permit' | 'deny'; start?: string; end?: string; withdrawn?: boolean }[];
}

/**
 * Registers the subjects (and their consents) of a folder, e.g. one written by
 * libs/synthetic's writeSyntheticFolder. Idempotent: a subject whose reference is known is
 * skipped with its consents, so a re-run adds only what is new.
 */
export async function runSubjectsImport(
  argv: string[],
  client = new TrellisHttpClient(),
  log: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  if (argv[0] !== 'import') throw new CliUsageError(argv[0] === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(argv[0])}`);
  if (argv.length !== 2 || argv[1].startsWith('--')) throw new CliUsageError('import takes exactly one <subjects.jsonl>');
  const lines = (await readFile(userPath(argv[1]), 'utf8')).split(/\r?\n/);
  let registered = 0;
  let existing = 0;
  let consents = 0;
  const failed: string[] = [];
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    let s: SubjectLine;
    try {
      s = JSON.parse(raw);
    } catch {
      failed.push(`line ${i + 1}: not valid JSON`);
      continue;
    }
    if (!s || typeof s.subjectRef !== 'string') {
      failed.push(`line ${i + 1}: no subjectRef`);
      continue;
    }
    const res = await client.request('POST', '/ingestion/subjects', { externalRef: s.subjectRef, name: s.name, birthDate: s.birthDate, mrn: s.mrn });
    if (res.status !== 201) {
      failed.push(`line ${i + 1} (${s.subjectRef}): ${errorText(res.body).message}`);
      continue;
    }
    if (res.body.duplicate) {
      existing += 1;
      continue;
    }
    registered += 1;
    for (const c of s.consents ?? []) {
      const period = c.start || c.end ? { start: c.start ?? null, end: c.end ?? null } : undefined;
      const r = await client.request('POST', `/ingestion/subjects/${res.body.subjectId}/consents`, {
        decision: c.decision ?? 'permit',
        purposes: c.purposes,
        period,
      });
      if (r.status !== 201) {
        failed.push(`line ${i + 1} (${s.subjectRef}) consent: ${errorText(r.body).message}`);
        continue;
      }
      consents += 1;
      if (c.withdrawn) {
        const w = await client.request('POST', `/ingestion/subjects/${res.body.subjectId}/consents/${r.body.consentId}/withdraw`, {});
        if (w.status !== 200) failed.push(`line ${i + 1} (${s.subjectRef}) withdrawal: ${errorText(w.body).message}`);
      }
    }
  }
  log(`registered: ${registered}, already known: ${existing}, consents recorded: ${consents}, failed: ${failed.length}`);
  for (const f of failed) log(`  ${f}`);
  return failed.length > 0 ? 1 : 0;
}

export const subjectsCommand: CliCommand = {
  summary: 'register subjects and consents: import <subjects.jsonl>',
  usage: SUBJECTS_USAGE,
  subcommands: { import: SUBJECTS_USAGE },
  run: (argv: string[]) => runSubjectsImport(argv),
};
