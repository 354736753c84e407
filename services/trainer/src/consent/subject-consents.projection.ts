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
