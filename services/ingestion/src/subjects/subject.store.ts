import type { QueryRunner } from 'typeorm';
import { INGESTION_LOG, ingestionContracts } from '@trellis/contracts';
import { aggregateStream, EventStreamStore } from '@trellis/event-store';
import { SubjectState, subjectDecider, subjectStream } from './subject.decider';

/**
 * Rebuilds a subject's state from its stream; the version is what the next append expects.
 * With `tx`, reads in that transaction (after its subject lock, say).
 */
export function loadSubject(store: EventStreamStore, subjectId: string, tx?: QueryRunner): Promise<{ state: SubjectState; version: number }> {
  return aggregateStream(store, subjectDecider, { log: INGESTION_LOG, streamId: subjectStream(subjectId), contracts: ingestionContracts }, { queryRunner: tx });
}

/**
 * Serializes, per subject, the transactions whose decision depends on the subject's consent:
 * a consent change and an asset commit. Held until the transaction ends.
 */
export async function lockSubject(tx: QueryRunner, subjectId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`ingestion:subject:${subjectId.toLowerCase()}`]);
}
