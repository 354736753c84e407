import { readFile } from 'node:fs/promises';
import { CliCommand, CliUsageError, errorText, TrellisHttpClient, userPath } from '@trellis/cli';

export const SUBJECTS_USAGE = `usage: trellis subjects import <subjects.jsonl>
  Registers data subjects and their consents. A subject already known (same reference, same
  identity) gets only what changed: new consents are recorded, withdrawals since applied.
  A known reference with a different name, birth date or MRN is refused (409), and so is a
  consent withdrawn on the platform that the file still grants (an import never re-grants).
  one JSON object a line: subjectRef, name, birthDate, mrn, consents [{ purposes, decision, start, end, withdrawn }]
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

type LineConsent = NonNullable<SubjectLine['consents']>[number];

/** A consent as GET /ingestion/subjects/:ref lists it. */
interface RecordedConsent {
  consentId: string;
  decision: string;
  purposes: string[];
  withdrawnPurposes: string[];
  periodStart: string | null;
  periodEnd: string | null;
}

/** The same instant written either way (`2024-01-01T09:00:00Z`, `...00.000Z`); anything unreadable as is. */
function instant(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : new Date(t).toISOString();
}

const sameConsent = (line: LineConsent, c: RecordedConsent) =>
  (line.decision ?? 'permit') === c.decision &&
  [...line.purposes].sort().join(',') === [...c.purposes].sort().join(',') &&
  instant(line.start) === instant(c.periodStart) &&
  instant(line.end) === instant(c.periodEnd);

/**
 * Registers the subjects (and their consents) of a folder, e.g. one written by
 * libs/synthetic's writeSyntheticFolder. Idempotent: a subject whose reference is known with the
 * same identity is compared with what the platform holds, so a re-run records only what is new
 * and applies withdrawals made since (issue 11, item 1: a changed decision is never "already known").
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
  let withdrawals = 0;
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
    const where = `line ${i + 1} (${s.subjectRef})`;
    const res = await client.request('POST', '/ingestion/subjects', { externalRef: s.subjectRef, name: s.name, birthDate: s.birthDate, mrn: s.mrn });
    if (res.status !== 201) {
      failed.push(`${where}: ${errorText(res.body).message}`);
      continue;
    }
    const subjectId: string = res.body.subjectId;
    let recorded: RecordedConsent[] = [];
    if (res.body.duplicate) {
      existing += 1;
      const known = await client.request('GET', `/ingestion/subjects/${subjectId}`);
      if (known.status !== 200) {
        failed.push(`${where}: ${errorText(known.body).message}`);
        continue;
      }
      recorded = known.body.consents ?? [];
    } else {
      registered += 1;
    }
    for (const c of s.consents ?? []) {
      if (!Array.isArray(c?.purposes)) {
        failed.push(`${where} consent: no purposes`);
        continue;
      }
      // Each recorded consent answers for one line of the file at most.
      const match = recorded.findIndex((r) => sameConsent(c, r));
      let consentId: string;
      let stillPermits: string[];
      if (match >= 0) {
        const [r] = recorded.splice(match, 1);
        consentId = r.consentId;
        stillPermits = r.purposes.filter((p) => !r.withdrawnPurposes.includes(p));
        if (!c.withdrawn && stillPermits.length < r.purposes.length) {
          failed.push(`${where} consent: withdrawn on the platform; an import does not grant it again (record a new consent to do so)`);
          continue;
        }
      } else {
        const period = c.start || c.end ? { start: c.start ?? null, end: c.end ?? null } : undefined;
        const r = await client.request('POST', `/ingestion/subjects/${subjectId}/consents`, { decision: c.decision ?? 'permit', purposes: c.purposes, period });
        if (r.status !== 201) {
          failed.push(`${where} consent: ${errorText(r.body).message}`);
          continue;
        }
        consents += 1;
        consentId = r.body.consentId;
        stillPermits = c.purposes;
      }
      if (c.withdrawn && stillPermits.length > 0) {
        const w = await client.request('POST', `/ingestion/subjects/${subjectId}/consents/${consentId}/withdraw`, {});
        if (w.status !== 200) failed.push(`${where} withdrawal: ${errorText(w.body).message}`);
        else withdrawals += 1;
      }
    }
  }
  log(`registered: ${registered}, already known: ${existing}, consents recorded: ${consents}, withdrawn: ${withdrawals}, failed: ${failed.length}`);
  for (const f of failed) log(`  ${f}`);
  return failed.length > 0 ? 1 : 0;
}

export const subjectsCommand: CliCommand = {
  summary: 'register subjects and consents: import <subjects.jsonl>',
  usage: SUBJECTS_USAGE,
  subcommands: { import: SUBJECTS_USAGE },
  run: (argv: string[]) => runSubjectsImport(argv),
};
