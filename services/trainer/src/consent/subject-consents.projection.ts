import type { QueryRunner } from 'typeorm';
import { evolveSubjectConsents, SubjectConsentEvent, SubjectConsentState } from '@trellis/contracts';

const CONSENT_EVENTS = new Set(['SubjectRegistered', 'ConsentRecorded', 'ConsentWithdrawn', 'SubjectErased']);

/**
 * The trainer's own consent read model: each subject's consent state folded from the ingestion
 * events with the same rule ingestion uses (`evolveSubjectConsents`), so a snapshot is frozen
 * against what was published, without asking ingestion. Applied in the consumer's transaction.
 */
export class SubjectConsentsProjection {
  static handles(type: string): boolean {
    return CONSENT_EVENTS.has(type);
  }

  async apply(tx: QueryRunner, event: SubjectConsentEvent): Promise<void> {
    const subjectId = event.data.subjectId.toLowerCase();
    const rows: { state: SubjectConsentState }[] = await tx.query('SELECT state FROM trainer_subject_consents WHERE subject_id = $1 FOR UPDATE', [subjectId]);
    const next = evolveSubjectConsents(rows[0]?.state ?? { status: 'none' }, event);
    await tx.query(
      `INSERT INTO trainer_subject_consents (subject_id, state, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (subject_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [subjectId, JSON.stringify(next)],
    );
  }
}

/** The consent state of the given subjects (absent ones are unknown to the trainer). */
export async function consentStates(db: QueryRunner, subjectIds: readonly string[]): Promise<Map<string, SubjectConsentState>> {
  const rows: { subject_id: string; state: SubjectConsentState }[] = await db.query(
    'SELECT subject_id, state FROM trainer_subject_consents WHERE subject_id = ANY($1::uuid[])',
    [[...new Set(subjectIds)]],
  );
  return new Map(rows.map((r) => [r.subject_id, r.state]));
}

/** The subjects of a snapshot's sets: whose items are in the training sets, whose in the evaluation sets, and their consent. */
export interface SetSubjects {
  training: string[];
  evaluation: string[];
  /**
   * Each subject's consent state as its JSON text, to be parsed when the subject is judged: the
   * states of 10,000 subjects parsed at once are some 12 MB the collector then moves. Subjects
   * the trainer has heard nothing of are absent: unknown.
   */
  consent: Map<string, string>;
}

/**
 * The subjects of the given annotation sets with their consent state, as kept with each set
 * (trainer_set_subjects, written once when the set arrived), so a freeze knows every subject's
 * decision before it reads an item, without a DISTINCT over every item of a 100,000-item set.
 * Each side is one DISTINCT over its sets' subjects (a subject on both comes twice).
 */
export async function subjectsOfSets(db: Pick<QueryRunner, 'query'>, training: readonly string[], evaluation: readonly string[]): Promise<SetSubjects> {
  const rows: { subject_id: string; training: boolean; state: string | null }[] = await db.query(
    `SELECT s.subject_id, s.training, c.state::text AS state
     FROM (SELECT DISTINCT subject_id, true AS training FROM trainer_set_subjects WHERE set_id = ANY($1::uuid[])
           UNION ALL
           SELECT DISTINCT subject_id, false FROM trainer_set_subjects WHERE set_id = ANY($2::uuid[])) s
     LEFT JOIN trainer_subject_consents c USING (subject_id)`,
    [training, evaluation],
  );
  const out: SetSubjects = { training: [], evaluation: [], consent: new Map() };
  for (const r of rows) {
    (r.training ? out.training : out.evaluation).push(r.subject_id);
    if (r.state) out.consent.set(r.subject_id, r.state);
  }
  return out;
}
