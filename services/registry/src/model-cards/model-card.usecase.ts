import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Metrics, SnapshotExclusionReason, TrainingMethod, TrainingPurpose } from '@trellis/contracts';
import { cardRevisions } from '../models/model.queries';
import { requireVersion } from '../models/model.usecases';
import { FlagTrigger, ModelCardAnnotationSet, ModelCardFacts, ModelCardFields, renderModelCard } from './model-card';

/**
 * Gathers a version's card facts from the read models (its registration, the run's snapshot
 * summary, the sets with their agreement, the de-identification of the snapshot's images,
 * completed evaluations, aliases, flags, the last card revision) and renders the card.
 */
@Injectable()
export class ModelCardUseCase {
  constructor(private readonly dataSource: DataSource) {}

  async render(name: string, versionParam: string): Promise<string> {
    return renderModelCard(await this.facts(name, versionParam));
  }

  async facts(name: string, versionParam: string): Promise<ModelCardFacts> {
    const db = this.dataSource;
    const v = await requireVersion(db, name, versionParam);
    const [base]: { preset: string | null }[] = await db.query('SELECT preset FROM registry_base_models WHERE base_model_id = $1', [v.baseModel.baseModelId]);
    const run = v.source.kind === 'training-run' ? v.source : null;
    const [frozen]: { snapshot: { snapshot: { excluded: { reason: SnapshotExclusionReason; count: number }[] } } | null }[] = run
      ? await db.query('SELECT snapshot FROM registry_runs WHERE run_id = $1', [run.runId])
      : [];
    const sets: {
      set_id: string;
      project_id: string;
      version: number;
      content_sha256: string;
      dataset_id: string;
      dataset_version: number;
      item_count: number;
      agreement: ModelCardAnnotationSet['agreement'];
    }[] = await db.query('SELECT * FROM registry_annotation_sets WHERE set_id = ANY($1::uuid[])', [v.annotationSets.map((s) => s.setId)]);
    const deid: { method: string; assets: string }[] = await db.query(
      `SELECT d.method, count(DISTINCT s.image_sha256) AS assets FROM registry_snapshot_items s JOIN registry_image_deidentification d USING (image_sha256)
       WHERE s.model_version_id = $1 GROUP BY d.method`,
      [v.modelVersionId],
    );
    const evaluations: {
      evaluation_id: string;
      set_id: string;
      set_sha256: string;
      set_version: number | null;
      result: { itemCount: number; metrics: Metrics };
      finished_at: Date;
    }[] = await db.query(
      `SELECT e.evaluation_id, e.set_id, e.set_sha256, a.version AS set_version, e.result, e.finished_at
         FROM registry_evaluations e LEFT JOIN registry_annotation_sets a USING (set_id)
         WHERE e.model_version_id = $1 AND e.status = 'completed'`,
      [v.modelVersionId],
    );
    const flags: { trigger: FlagTrigger; subjects: string; items: string }[] = await db.query(
      `SELECT f.trigger, count(DISTINCT f.subject_id) AS subjects,
              (SELECT count(*) FROM registry_snapshot_items s WHERE s.model_version_id = $1 AND s.subject_id IN
                 (SELECT subject_id FROM registry_flags g WHERE g.model_version_id = $1 AND g.trigger = f.trigger)) AS items
       FROM registry_flags f WHERE f.model_version_id = $1 GROUP BY f.trigger`,
      [v.modelVersionId],
    );
    const card = (await cardRevisions(db, v.modelVersionId)).at(-1);
    return {
      modelName: v.modelName,
      version: v.version,
      modelVersionId: v.modelVersionId,
      registeredAt: v.registeredAt,
      method: v.method as TrainingMethod,
      baseModel: { id: v.baseModel.baseModelId, manifestSha256: v.baseModel.manifestSha256, preset: base?.preset ?? null },
      parameters: v.parameters,
      run: run ? { runId: run.runId, requestedBy: run.requestedBy } : null,
      snapshot: v.snapshot
        ? {
            manifestSha256: v.snapshot.manifest.sha256,
            merkleRoot: v.snapshot.merkleRoot,
            includedItems: v.snapshot.includedItems,
            includedSubjects: v.snapshot.includedSubjects,
            heldOutItems: v.snapshot.heldOutItems,
            consentAsOf: v.snapshot.consentAsOf,
            excluded: frozen?.snapshot?.snapshot.excluded ?? [],
          }
        : null,
      purpose: v.purpose as TrainingPurpose | null,
      annotationSets: sets.map((s) => ({
        setId: s.set_id,
        projectId: s.project_id,
        version: s.version,
        contentSha256: s.content_sha256,
        datasetId: s.dataset_id,
        datasetVersion: s.dataset_version,
        itemCount: s.item_count,
        agreement: s.agreement,
      })),
      deidentification: deid.map((d) => ({ profile: d.method, assets: Number(d.assets) })),
      evaluations: evaluations.map((e) => ({
        evaluationId: e.evaluation_id,
        annotationSet: { setId: e.set_id, version: e.set_version ?? 0, contentSha256: e.set_sha256 },
        itemCount: e.result.itemCount,
        metrics: e.result.metrics,
        completedAt: e.finished_at.toISOString(),
      })),
      aliases: v.aliases,
      flags: flags.map((f) => ({ trigger: f.trigger, subjectsAffected: Number(f.subjects), itemsAffected: Number(f.items) })),
      archived: v.archived !== null,
      card: card ? { revision: card.revision, fields: card.fields as ModelCardFields } : null,
    };
  }
}
