import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { Actor, ConsentWithdrawn, SubjectErased } from '@trellis/contracts';
import { RegistryConfig } from '../registry.config';
import { REGISTRY_CONFIG } from '../registry.tokens';
import { RegistryStreams } from '../streams/registry.streams';

/** Flags raised by the registry on its own behalf, on hearing the ingestion log. */
export const REGISTRY_SERVICE_ACTOR: Actor = { id: 'registry-service', role: 'service' };

interface Reached {
  model_id: string;
  model_version_id: string;
  purpose: string | null;
  snapshot_sha256: string;
  items: string;
}

/**
 * A subject withdrew consent or was erased: every version whose snapshot holds their items is
 * flagged (subjects and items affected, the snapshot), in the consumer's transaction. A
 * withdrawal counts for a version when it withdraws the purpose the version's data was used
 * under; an erasure always counts. With automatic demotion, the decider also moves the
 * version's aliases back.
 */
@Injectable()
export class FlagVersionsUseCase {
  constructor(
    private readonly streams: RegistryStreams,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async onWithdrawn(tx: QueryRunner, d: ConsentWithdrawn['data']): Promise<void> {
    const reached = await this.reached(tx, d.subjectId);
    const purposes: readonly string[] = d.purposes;
    await this.flag(
      tx,
      d.subjectId,
      'consent-withdrawn',
      reached.filter((r) => r.purpose === null || purposes.includes(r.purpose)),
    );
  }

  async onErased(tx: QueryRunner, d: SubjectErased['data']): Promise<void> {
    await this.flag(tx, d.subjectId, 'subject-erased', await this.reached(tx, d.subjectId));
  }

  private reached(tx: QueryRunner, subjectId: string): Promise<Reached[]> {
    return tx.query(
      `SELECT v.model_id, v.model_version_id, v.data->>'purpose' AS purpose, v.data->'snapshot'->'manifest'->>'sha256' AS snapshot_sha256, count(*) AS items
       FROM registry_snapshot_items s JOIN registry_versions v USING (model_version_id)
       WHERE s.subject_id = $1 GROUP BY v.model_id, v.model_version_id ORDER BY v.model_version_id`,
      [subjectId.toLowerCase()],
    );
  }

  private async flag(tx: QueryRunner, subjectId: string, trigger: 'consent-withdrawn' | 'subject-erased', versions: Reached[]): Promise<void> {
    for (const r of versions) {
      await this.streams.model(
        tx,
        r.model_id,
        {
          type: 'Flag',
          data: {
            modelId: r.model_id,
            modelVersionId: r.model_version_id,
            trigger,
            subjectIds: [subjectId.toLowerCase()],
            itemsAffected: Number(r.items),
            snapshotSha256: r.snapshot_sha256,
          },
          autoDemote: this.config.autoDemote,
        },
        REGISTRY_SERVICE_ACTOR,
      );
    }
  }
}
