import type { QueryRunner } from 'typeorm';
import { INGESTION_LOG } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { evolveSubject, initialSubjectState, SubjectEvent, SubjectState, subjectStream } from './subject.decider';

/** Rebuilds a subject's state from its stream; the version is what the next append expects. */
export async function loadSubject(store: PostgresEventStore, subjectId: string): Promise<{ state: SubjectState; version: number }> {
  const history = await store.readStream(INGESTION_LOG, subjectStream(subjectId));
  const state = history.reduce<SubjectState>((s, e) => evolveSubject(s, e as unknown as SubjectEvent), initialSubjectState);
  return { state, version: history.length };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/**
 * Serializes, per subject, the transactions whose decision depends on the subject's consent:
 * a consent change and an asset commit. Held until the transaction ends.
 */
export async function lockSubject(tx: QueryRunner, subjectId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`ingestion:subject:${subjectId.toLowerCase()}`]);
}
