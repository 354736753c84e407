import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import {
  AnnotationSetPublished,
  AssetIngested,
  BaseModelRegistered,
  agreementSummary,
  readAnnotationSetArtifact,
  TrainingCompleted,
  TrainingRequested,
  TrainingSnapshotFrozen,
} from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import { REGISTRY_STORAGE } from '../registry.tokens';

export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * What the registry keeps of the other contexts' events, each in the consumer's transaction:
 * base models and runs (trainer), published sets with their items and agreement (annotation),
 * the de-identification applied to each stored image (ingestion). Idempotent: a redelivery or a
 * replay writes the same rows.
 */
@Injectable()
export class UpstreamFactsRecorder {
  constructor(@Inject(REGISTRY_STORAGE) private readonly storage: ObjectStorage) {}

  async baseModel(tx: QueryRunner, d: BaseModelRegistered['data']): Promise<void> {
    await tx.query(
      `INSERT INTO registry_base_models (base_model_id, preset, manifest_sha256, files, architecture) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (base_model_id) DO NOTHING`,
      [d.baseModelId, d.preset, d.manifestSha256, JSON.stringify(d.files), JSON.stringify(d.architecture)],
    );
  }

  async runRequested(tx: QueryRunner, d: TrainingRequested['data'], requestedBy: string, at: string): Promise<void> {
    await tx.query(`INSERT INTO registry_runs (run_id, requested_by, request, requested_at) VALUES ($1,$2,$3,$4) ON CONFLICT (run_id) DO NOTHING`, [
      d.runId,
      requestedBy,
      JSON.stringify(d),
      at,
    ]);
  }

  async snapshotFrozen(tx: QueryRunner, d: TrainingSnapshotFrozen['data']): Promise<void> {
    await tx.query('UPDATE registry_runs SET snapshot = $2 WHERE run_id = $1', [d.runId, JSON.stringify(d)]);
  }

  async runCompleted(tx: QueryRunner, d: TrainingCompleted['data']): Promise<void> {
    await tx.query('UPDATE registry_runs SET completed = $2 WHERE run_id = $1', [d.runId, JSON.stringify(d)]);
  }

  async assetIngested(tx: QueryRunner, d: AssetIngested['data']): Promise<void> {
    const images = [d.storage.curatedSha256, d.storage.derivativeSha256, d.storage.deidentifiedSha256].filter((s): s is string => typeof s === 'string');
    for (const sha of images) {
      await tx.query(`INSERT INTO registry_image_deidentification (image_sha256, method, options) VALUES ($1,$2,$3) ON CONFLICT (image_sha256) DO NOTHING`, [
        sha,
        d.deidentification.method,
        JSON.stringify(d.deidentification.options),
      ]);
    }
  }

  /** Reads the set's artifact once, checks it against the published hash, and keeps its items and agreement statistics. */
  async annotationSet(tx: QueryRunner, d: AnnotationSetPublished['data'], publishedAt: string): Promise<void> {
    const known: unknown[] = await tx.query('SELECT 1 FROM registry_annotation_sets WHERE set_id = $1', [d.setId]);
    if (known.length > 0) return;
    const read = readAnnotationSetArtifact(await this.storage.getBuffer('artifacts', d.artifact.key), d.artifact.sha256);
    if ('problem' in read) throw new RegistryException(RegistryErrorCode.ArtifactCorrupt, `annotation set ${d.setId}: ${read.problem}`);
    const items = read.items;
    await tx.query(
      `INSERT INTO registry_annotation_sets (set_id, project_id, version, dataset_id, dataset_version, content_sha256, artifact_key, item_count, agreement, published_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
      [
        d.setId,
        d.projectId,
        d.version,
        d.datasetId,
        d.datasetVersion,
        d.contentSha256,
        d.artifact.key,
        items.length,
        JSON.stringify(agreementSummary(items)),
        publishedAt,
      ],
    );
    await tx.query(
      `INSERT INTO registry_set_items (set_id, item_id, subject_id, image_key, image_sha256, text_sha256, answer)
       SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[])`,
      [
        d.setId,
        items.map((b) => b.itemId),
        items.map((b) => b.subjectId),
        items.map((b) => b.image),
        items.map((b) => b.imageSha256),
        items.map((b) => b.textSha256),
        items.map((b) => JSON.stringify(b.answer)),
      ],
    );
  }
}
