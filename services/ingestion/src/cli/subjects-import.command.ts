import { readFile } from 'node:fs/promises';
import { CliCommand, CliUsageError, emitter, errorText, JSON_SWITCH, parseCliArgs, TrellisHttpClient, userPath } from '@trellis/cli';

export const SUBJECTS_USAGE = `usage: trellis subjects import <subjects.jsonl> [--json]
  Registers data subjects and their consents. A subject already known (same reference, same
  identity) gets only what changed: new consents are recorded, withdrawals since applied.
  A known reference with a different name, birth date or MRN is refused (409), and so is a
  consent withdrawn on the platform that the file still grants (an import never re-grants).
  one JSON object a line: subjectRef, name, birthDate, mrn, consents [{ purposes, decision, start, end, withdrawn }]
  exit code 1 when any line failed (each listed)
  --json: one JSON object on stdout in place of the summary (registered, existing, consents,
  withdrawals, failed [{ line, subjectRef, step, reason, message }])
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

/** A line (or one of its consents) that failed; `reason` is the platform's code, or BAD_LINE. */
export interface SubjectsImportFailure {
  line: number;
  subjectRef?: string;
  /** What failed: the subject's registration (absent), one of its consents or a withdrawal. */
  step?: 'consent' | 'withdrawal';
  reason: string;
  message: string;
}

export interface SubjectsImportSummary {
  registered: number;
  existing: number;
  consents: number;
  withdrawals: number;
  failed: SubjectsImportFailure[];
}

function parseArgs(argv: string[]): { file: string; json: boolean } {
  if (argv[0] !== 'import') throw new CliUsageError(argv[0] === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(argv[0])}`);
  const { positional, flags, switches } = parseCliArgs(argv.slice(1), {
    switches: [JSON_SWITCH],
    error: () => new CliUsageError('import takes exactly one <subjects.jsonl>'),
  });
  if (positional.length !== 1 || Object.keys(flags).length > 0) throw new CliUsageError('import takes exactly one <subjects.jsonl>');
  return { file: userPath(positional[0]), json: switches.has(JSON_SWITCH) };
}

/**
 * Registers the subjects (and their consents) of a folder, e.g. one written by
 * libs/synthetic's writeSyntheticFolder. Idempotent: a subject whose reference is known with the
 * same identity is compared with what the platform holds, so a re-run records only what is new
 * and applies withdrawals made since (issue 11, item 1: a changed decision is never "already known").
 * `out` is stdout: the summary lines, or with --json the summary as one JSON document.
 */
export async function runSubjectsImport(
  argv: string[],
  client = new TrellisHttpClient(),
  out: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  const args = parseArgs(argv);
  const lines = (await readFile(args.file, 'utf8')).split(/\r?\n/);
  const summary: SubjectsImportSummary = { registered: 0, existing: 0, consents: 0, withdrawals: 0, failed: [] };
  const failed = summary.failed;
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    const line = i + 1;
    let s: SubjectLine;
    try {
      s = JSON.parse(raw);
    } catch {
      failed.push({ line, reason: 'BAD_LINE', message: 'not valid JSON' });
      continue;
    }
    if (!s || typeof s.subjectRef !== 'string') {
      failed.push({ line, reason: 'BAD_LINE', message: 'no subjectRef' });
      continue;
    }
    const subjectRef = s.subjectRef;
    const platformFailure = (body: unknown, step?: SubjectsImportFailure['step']) => {
      const { reason, message } = errorText(body);
      failed.push({ line, subjectRef, ...(step ? { step } : {}), reason, message });
    };
    const res = await client.request('POST', '/ingestion/subjects', { externalRef: s.subjectRef, name: s.name, birthDate: s.birthDate, mrn: s.mrn });
    if (res.status !== 201) {
      platformFailure(res.body);
      continue;
    }
    const subjectId: string = res.body.subjectId;
    let recorded: RecordedConsent[] = [];
    if (res.body.duplicate) {
      summary.existing += 1;
      const known = await client.request('GET', `/ingestion/subjects/${subjectId}`);
      if (known.status !== 200) {
        platformFailure(known.body);
        continue;
      }
      recorded = known.body.consents ?? [];
    } else {
      summary.registered += 1;
    }
    for (const c of s.consents ?? []) {
      if (!Array.isArray(c?.purposes)) {
        failed.push({ line, subjectRef, step: 'consent', reason: 'BAD_LINE', message: 'no purposes' });
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
          failed.push({
            line,
            subjectRef,
            step: 'consent',
            reason: 'CONSENT_ALREADY_WITHDRAWN',
            message: 'withdrawn on the platform; an import does not grant it again (record a new consent to do so)',
          });
          continue;
        }
      } else {
        const period = c.start || c.end ? { start: c.start ?? null, end: c.end ?? null } : undefined;
        const r = await client.request('POST', `/ingestion/subjects/${subjectId}/consents`, { decision: c.decision ?? 'permit', purposes: c.purposes, period });
        if (r.status !== 201) {
          platformFailure(r.body, 'consent');
          continue;
        }
        summary.consents += 1;
        consentId = r.body.consentId;
        stillPermits = c.purposes;
      }
      if (c.withdrawn && stillPermits.length > 0) {
        const w = await client.request('POST', `/ingestion/subjects/${subjectId}/consents/${consentId}/withdraw`, {});
        if (w.status !== 200) platformFailure(w.body, 'withdrawal');
        else summary.withdrawals += 1;
      }
    }
  }
  emitter(out, args.json)(summary, () => {
    out(
      `registered: ${summary.registered}, already known: ${summary.existing}, consents recorded: ${summary.consents}, withdrawn: ${summary.withdrawals}, failed: ${failed.length}`,
    );
    for (const f of failed) out(`  line ${f.line}${f.subjectRef === undefined ? '' : ` (${f.subjectRef})`}${f.step ? ` ${f.step}` : ''}: ${f.message}`);
  });
  return failed.length > 0 ? 1 : 0;
}

export const subjectsCommand: CliCommand = {
  summary: 'register subjects and consents: import <subjects.jsonl>',
  usage: SUBJECTS_USAGE,
  subcommands: { import: SUBJECTS_USAGE },
  run: (argv: string[]) => runSubjectsImport(argv),
};
