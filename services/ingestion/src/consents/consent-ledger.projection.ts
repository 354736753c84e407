import type { QueryRunner } from 'typeorm';
import { ConsentRecorded, ConsentWithdrawn, EventEnvelope, INGESTION_LOG, SubjectErased } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/** `ingestion_consents`: each consent as recorded, with the purposes withdrawn since. */
export class ConsentLedgerProjection implements Projection {
  readonly name = 'ingestion-consents';
  readonly log = INGESTION_LOG;

  async apply(e: EventEnvelope, tx: QueryRunner): Promise<void> {
    if (e.type === 'ConsentRecorded') {
      const d = e.data as ConsentRecorded['data'];
      await tx.query(
        `INSERT INTO ingestion_consents (consent_id, subject_id, status, decision, purposes, period_start, period_end, source_sha256, fhir_version, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (consent_id) DO NOTHING`,
        [d.consentId, d.subjectId, d.status, d.decision, d.purposes, d.period.start, d.period.end, d.sourceSha256, d.fhirVersion, e.occurredAt],
      );
    } else if (e.type === 'ConsentWithdrawn') {
      const d = e.data as ConsentWithdrawn['data'];
      await tx.query(
        `UPDATE ingestion_consents
            SET withdrawn_purposes = ARRAY(SELECT DISTINCT unnest(withdrawn_purposes || $2::text[]) ORDER BY 1), withdrawn_at = $3
          WHERE consent_id = $1`,
        [d.consentId, d.purposes, e.occurredAt],
      );
    } else if (e.type === 'SubjectErased') {
      // An erased subject permits nothing any more: no consent of theirs may read as active.
      const d = e.data as SubjectErased['data'];
      await tx.query(`UPDATE ingestion_consents SET status = 'inactive' WHERE subject_id = $1 AND status = 'active'`, [d.subjectId]);
    }
  }

  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('DELETE FROM ingestion_consents');
  }
}
