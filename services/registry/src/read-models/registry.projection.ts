import type { QueryRunner } from 'typeorm';
import { EventEnvelope, REGISTRY_LOG, RegistryEvent } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/**
 * The registry's own read model, fed by the `registry` log in the appending transaction. Every
 * statement is an upsert or a guarded update, so a replay gives the same tables. The snapshot
 * items of a version are not here: they come from the manifest, read by the use case that
 * registers the version. The evaluation lease columns are not event-sourced.
 */
export class RegistryProjection implements Projection {
  readonly name = 'registry-read-model';
  readonly log = REGISTRY_LOG;

  async apply(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const event = { type: envelope.type, data: envelope.data } as RegistryEvent;
    const at = envelope.occurredAt;
    const actor = envelope.actor.id;
    switch (event.type) {
      case 'RegisteredModelCreated':
        await tx.query(
          `INSERT INTO registry_models (model_id, name, description, created_by, created_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (model_id) DO NOTHING`,
          [event.data.modelId, event.data.name, event.data.description, actor, at],
        );
        return;
      case 'ModelVersionRegistered': {
        const d = event.data;
        await tx.query(
          `INSERT INTO registry_versions (model_version_id, model_id, version, run_id, data, registered_by, registered_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (model_version_id) DO NOTHING`,
          [d.modelVersionId, d.modelId, d.version, d.source.kind === 'training-run' ? d.source.runId : null, JSON.stringify(d), actor, at],
        );
        return;
      }
      case 'ModelVersionTagged': {
        const d = event.data;
        const table = d.modelVersionId === null ? 'registry_models' : 'registry_versions';
        const where = d.modelVersionId === null ? 'model_id = $1' : 'model_version_id = $1';
        const change = d.value === null ? 'tags - $2::text' : 'tags || jsonb_build_object($2::text, $3::text)';
        await tx.query(
          `UPDATE ${table} SET tags = ${change} WHERE ${where}`,
          d.value === null ? [d.modelVersionId ?? d.modelId, d.key] : [d.modelVersionId ?? d.modelId, d.key, d.value],
        );
        return;
      }
      case 'ModelDescribed': {
        const d = event.data;
        if (d.modelVersionId === null) await tx.query('UPDATE registry_models SET description = $2 WHERE model_id = $1', [d.modelId, d.description]);
        else await tx.query('UPDATE registry_versions SET description = $2 WHERE model_version_id = $1', [d.modelVersionId, d.description]);
        return;
      }
      case 'ModelVersionArchived':
        await tx.query('UPDATE registry_versions SET archived_at = $2, archive_reason = $3 WHERE model_version_id = $1 AND archived_at IS NULL', [
          event.data.modelVersionId,
          at,
          event.data.reason,
        ]);
        return;
      case 'AliasMoved': {
        const d = event.data;
        if (d.modelVersionId === null) await tx.query('DELETE FROM registry_aliases WHERE model_id = $1 AND alias = $2', [d.modelId, d.alias]);
        else {
          await tx.query(
            `INSERT INTO registry_aliases (model_id, alias, model_version_id, moved_at) VALUES ($1,$2,$3,$4)
             ON CONFLICT (model_id, alias) DO UPDATE SET model_version_id = EXCLUDED.model_version_id, moved_at = EXCLUDED.moved_at`,
            [d.modelId, d.alias, d.modelVersionId, at],
          );
        }
        await tx.query(
          `INSERT INTO registry_alias_history (position, model_id, alias, model_version_id, previous_version_id, kind, promotion_id, actor_id, reason, moved_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (position) DO NOTHING`,
          [envelope.position, d.modelId, d.alias, d.modelVersionId, d.previousVersionId, d.kind, d.promotionId, actor, d.reason, at],
        );
        return;
      }
      case 'PromotionRequested': {
        const d = event.data;
        await tx.query(
          `INSERT INTO registry_promotions (promotion_id, model_id, alias, model_version_id, current_version_id, evaluation_set_sha256, tolerance, requested_by, reason, status, requested_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'pending',$10) ON CONFLICT (promotion_id) DO NOTHING`,
          [d.promotionId, d.modelId, d.alias, d.modelVersionId, d.currentVersionId, d.evaluationSetSha256, d.tolerance, d.requestedBy, d.reason, at],
        );
        return;
      }
      case 'PromotionGatesChecked':
        await tx.query('UPDATE registry_promotions SET verdicts = $2 WHERE promotion_id = $1', [event.data.promotionId, JSON.stringify(event.data.verdicts)]);
        return;
      case 'PromotionApproved':
        await tx.query(`UPDATE registry_promotions SET status = 'approved', decided_by = $2, comment = $3, decided_at = $4 WHERE promotion_id = $1`, [
          event.data.promotionId,
          event.data.approvedBy,
          event.data.comment,
          at,
        ]);
        return;
      case 'PromotionRejected':
        await tx.query(`UPDATE registry_promotions SET status = 'rejected', decided_by = $2, comment = $3, decided_at = $4 WHERE promotion_id = $1`, [
          event.data.promotionId,
          event.data.rejectedBy,
          event.data.comment,
          at,
        ]);
        return;
      case 'ModelVersionFlagged': {
        const d = event.data;
        await tx.query(
          `INSERT INTO registry_flags (model_version_id, subject_id, trigger, flagged_at) SELECT $1, s, $3, $4 FROM unnest($2::uuid[]) s ON CONFLICT DO NOTHING`,
          [d.modelVersionId, d.subjectIds, d.trigger, at],
        );
        await tx.query(
          `UPDATE registry_versions SET flagged_subjects = (SELECT count(*) FROM registry_flags WHERE model_version_id = $1),
             flagged_items = flagged_items + $2 WHERE model_version_id = $1`,
          [d.modelVersionId, d.itemsAffected],
        );
        return;
      }
      case 'ModelCardEdited':
        await tx.query(
          `INSERT INTO registry_model_cards (model_version_id, revision, fields, edited_by, edited_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`,
          [event.data.modelVersionId, event.data.revision, JSON.stringify(event.data.fields), actor, at],
        );
        return;
      case 'RetrainRequested':
        await tx.query('UPDATE registry_versions SET retrain_requested_at = $2 WHERE model_version_id = $1', [event.data.modelVersionId, at]);
        return;
      case 'EvaluationRequested': {
        const d = event.data;
        await tx.query(
          `INSERT INTO registry_evaluations (evaluation_id, model_id, model_version_id, set_id, set_sha256, request, status, requested_by, requested_at)
           VALUES ($1,$2,$3,$4,$5,$6,'requested',$7,$8) ON CONFLICT (evaluation_id) DO NOTHING`,
          [d.evaluationId, d.modelId, d.modelVersionId, d.annotationSet.setId, d.annotationSet.contentSha256, JSON.stringify(d), actor, at],
        );
        return;
      }
      case 'EvaluationStarted':
        await tx.query(`UPDATE registry_evaluations SET status = 'running', attempts = $2 WHERE evaluation_id = $1 AND status IN ('requested', 'running')`, [
          event.data.evaluationId,
          event.data.attempt,
        ]);
        return;
      case 'EvaluationCompleted':
        await tx.query(
          `UPDATE registry_evaluations SET status = 'completed', result = $2, finished_at = $3, lease_owner = NULL, lease_expires_at = NULL WHERE evaluation_id = $1`,
          [event.data.evaluationId, JSON.stringify(event.data), at],
        );
        return;
      case 'EvaluationFailed':
        await tx.query(
          `UPDATE registry_evaluations SET status = 'failed', failure = $2, finished_at = $3, lease_owner = NULL, lease_expires_at = NULL WHERE evaluation_id = $1`,
          [event.data.evaluationId, JSON.stringify({ code: event.data.code, reason: event.data.reason }), at],
        );
        return;
      default:
        return event satisfies never;
    }
  }

  /** The snapshot items stay: they come from the manifests, keyed by version ids the replay gives again. */
  async reset(tx: QueryRunner): Promise<void> {
    for (const table of [
      'registry_evaluations',
      'registry_model_cards',
      'registry_promotions',
      'registry_alias_history',
      'registry_aliases',
      'registry_flags',
      'registry_versions',
      'registry_models',
    ]) {
      await tx.query(`DELETE FROM ${table}`);
    }
  }
}
