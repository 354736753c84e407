import type { QueryRunner } from 'typeorm';
import { AssetIngested, EventEnvelope, INGESTION_LOG } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/**
 * `ingestion_assets`: one row per ingested asset (rejections stay in the log only: nothing of a
 * rejected upload is kept). The (subject, sha256) uniqueness makes re-ingest idempotent even
 * when two uploads of the same bytes race.
 */
export class AssetCatalogProjection implements Projection {
  readonly name = 'ingestion-assets';
  readonly log = INGESTION_LOG;

  async apply(e: EventEnvelope, tx: QueryRunner): Promise<void> {
    if (e.type === 'AssetIngested') {
      const d = e.data as AssetIngested['data'];
      await tx.query(
        `INSERT INTO ingestion_assets (asset_id, subject_id, kind, mime_type, sha256, size, width, height, raw_key, curated_key, curated_sha256,
                                       derivative_key, derivative_sha256, deidentified_key, describes_asset_id, deidentification, status, ingested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'ingested', $17) ON CONFLICT (asset_id) DO NOTHING`,
        [
          d.assetId,
          d.subjectId,
          d.kind,
          d.mimeType,
          d.sha256,
          d.size,
          d.width,
          d.height,
          d.storage.raw,
          d.storage.curated,
          d.storage.curatedSha256,
          d.storage.derivative,
          d.storage.derivativeSha256,
          d.storage.deidentified ?? null,
          d.describesAssetId,
          JSON.stringify(d.deidentification),
          e.occurredAt,
        ],
      );
    } else if (e.type === 'SubjectErased') {
      await tx.query(`UPDATE ingestion_assets SET status = 'erased', erased_at = $2 WHERE subject_id = $1`, [
        (e.data as { subjectId: string }).subjectId,
        e.occurredAt,
      ]);
    }
  }

  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('DELETE FROM ingestion_assets');
  }
}
