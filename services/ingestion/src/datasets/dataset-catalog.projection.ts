import type { QueryRunner } from 'typeorm';
import { DatasetVersionPublished, EventEnvelope, INGESTION_LOG } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/** `ingestion_datasets`, their current members and their published versions. */
export class DatasetCatalogProjection implements Projection {
  readonly name = 'ingestion-datasets';
  readonly log = INGESTION_LOG;

  async apply(e: EventEnvelope, tx: QueryRunner): Promise<void> {
    const d = e.data as { datasetId: string; name?: string; assetId?: string };
    switch (e.type) {
      case 'DatasetCreated':
        await tx.query('INSERT INTO ingestion_datasets (dataset_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (dataset_id) DO NOTHING', [
          d.datasetId,
          d.name,
          e.occurredAt,
        ]);
        return;
      case 'DatasetAssetAdded':
        await tx.query('INSERT INTO ingestion_dataset_members (dataset_id, asset_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          d.datasetId,
          d.assetId,
          e.occurredAt,
        ]);
        return;
      case 'DatasetAssetRemoved':
        await tx.query('DELETE FROM ingestion_dataset_members WHERE dataset_id = $1 AND asset_id = $2', [d.datasetId, d.assetId]);
        return;
      case 'DatasetVersionPublished': {
        const v = e.data as DatasetVersionPublished['data'];
        await tx.query(
          `INSERT INTO ingestion_dataset_versions (dataset_id, version, merkle_root, member_count, manifest_key, manifest_sha256, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [v.datasetId, v.version, v.merkleRoot, v.memberCount, v.manifest.key, v.manifest.sha256, e.occurredAt],
        );
        await tx.query('UPDATE ingestion_datasets SET latest_version = GREATEST(latest_version, $2) WHERE dataset_id = $1', [v.datasetId, v.version]);
        return;
      }
    }
  }

  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('DELETE FROM ingestion_dataset_versions');
    await tx.query('DELETE FROM ingestion_dataset_members');
    await tx.query('DELETE FROM ingestion_datasets');
  }
}
