import type { QueryRunner } from 'typeorm';
import { EventEnvelope, INGESTION_LOG } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/** `ingestion_subjects`: pseudonymous ids and their status; personal details are elsewhere. */
export class SubjectRegistryProjection implements Projection {
  readonly name = 'ingestion-subjects';
  readonly log = INGESTION_LOG;

  async apply(e: EventEnvelope, tx: QueryRunner): Promise<void> {
    const d = e.data as { subjectId: string; reason?: string };
    if (e.type === 'SubjectRegistered') {
      await tx.query(`INSERT INTO ingestion_subjects (subject_id, status, registered_at) VALUES ($1, 'active', $2) ON CONFLICT (subject_id) DO NOTHING`, [
        d.subjectId,
        e.occurredAt,
      ]);
    } else if (e.type === 'SubjectErased') {
      await tx.query(`UPDATE ingestion_subjects SET status = 'erased', erased_at = $2, erase_reason = $3 WHERE subject_id = $1`, [
        d.subjectId,
        e.occurredAt,
        d.reason,
      ]);
    }
  }

  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('DELETE FROM ingestion_subjects');
  }
}
