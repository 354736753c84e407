import type { QueryRunner } from 'typeorm';
import { EventEnvelope, INGESTION_LOG } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';
import { AssetCatalogProjection } from '../assets/asset-catalog.projection';
import { ConsentLedgerProjection } from '../consents/consent-ledger.projection';
import { DatasetCatalogProjection } from '../datasets/dataset-catalog.projection';
import { SubjectRegistryProjection } from '../subjects/subject-registry.projection';

/**
 * The ingestion read models, applied inline: in the transaction that appends the events, so a
 * steward reads their own write and uniqueness (one asset per subject and content) is enforced
 * by the same commit. Every apply is idempotent, so the same projections can also be rebuilt by
 * replay through the ProjectionRunner (`rebuild(readModels)`).
 */
export class IngestionReadModels implements Projection {
  readonly name = 'ingestion-read-models';
  readonly log = INGESTION_LOG;
  private readonly parts: Projection[] = [
    new SubjectRegistryProjection(),
    new ConsentLedgerProjection(),
    new AssetCatalogProjection(),
    new DatasetCatalogProjection(),
  ];

  async apply(event: EventEnvelope, tx: QueryRunner): Promise<void> {
    for (const p of this.parts) await p.apply(event, tx);
  }

  async applyAll(events: EventEnvelope[], tx: QueryRunner): Promise<void> {
    for (const e of events) await this.apply(e, tx);
  }

  async reset(tx: QueryRunner): Promise<void> {
    for (const p of this.parts) await p.reset(tx);
  }
}
