import type { QueryRunner } from 'typeorm';
import { ANNOTATION_LOG, AnnotationEvent, EventEnvelope } from '@trellis/contracts';
import type { Projection } from '@trellis/event-store';

/**
 * The annotation read models (projects, tasks, assignments, sets), fed by the `annotation` log.
 * Use cases apply their own events in the transaction that appends them, so that the next
 * "pull a task" already sees them; every statement is an upsert or a guarded update, so a
 * replay (ProjectionRunner.rebuild) gives the same tables.
 */
export class AnnotationProjection implements Projection {
  readonly name = 'annotation-read-model';
  readonly log = ANNOTATION_LOG;

  async apply(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const event = { type: envelope.type, data: envelope.data } as AnnotationEvent;
    const at = envelope.occurredAt;
    switch (event.type) {
      case 'AnnotationProjectCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO annotation_projects (project_id, name, dataset_id, dataset_version, task_type, labels, guidelines,
             annotations_per_item, agreement_threshold, max_text_length, reassign_rejected_to_same_annotator, created_by, created_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (project_id) DO NOTHING`,
          [
            d.projectId,
            d.name,
            d.datasetId,
            d.datasetVersion,
            d.taskType,
            d.labels,
            d.guidelines,
            d.annotationsPerItem,
            d.agreementThreshold,
            d.maxTextLength,
            d.reassignRejectedToSameAnnotator,
            envelope.actor.id,
            at,
          ],
        );
        return;
      }
      case 'AnnotationProjectArchived':
        await tx.query('UPDATE annotation_projects SET archived_at = $2 WHERE project_id = $1 AND archived_at IS NULL', [event.data.projectId, at]);
        return;
      case 'AnnotationTaskCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO annotation_tasks (task_id, project_id, item_id, subject_id, image_key, report_asset_id, report_key, status)
           VALUES ($1,$2,$3,$4,$5,$6,$7,'open') ON CONFLICT (task_id) DO NOTHING`,
          [d.taskId, d.projectId, d.itemId, d.subjectId, d.imageKey, d.reportAssetId, d.reportKey],
        );
        // Once per project, not once per task: N tasks would otherwise rewrite the row N times.
        await tx.query('UPDATE annotation_projects SET tasks_created = true WHERE project_id = $1 AND NOT tasks_created', [d.projectId]);
        return;
      }
      case 'TaskAssigned': {
        const d = event.data;
        await tx.query(
          `INSERT INTO annotation_assignments (assignment_id, task_id, project_id, annotator_id, status, assigned_at)
           VALUES ($1,$2,$3,$4,'assigned',$5) ON CONFLICT (assignment_id) DO NOTHING`,
          [d.assignmentId, d.taskId, d.projectId, d.annotatorId, at],
        );
        return;
      }
      case 'TaskReleased':
        await tx.query(`UPDATE annotation_assignments SET status = 'released' WHERE assignment_id = $1`, [event.data.assignmentId]);
        return;
      case 'AnnotationSubmitted':
        await tx.query(`UPDATE annotation_assignments SET status = 'submitted', answer = $2, submitted_at = $3 WHERE assignment_id = $1`, [
          event.data.assignmentId,
          JSON.stringify(event.data.answer),
          at,
        ]);
        return;
      case 'AnnotationReviewed':
        await tx.query('UPDATE annotation_assignments SET status = $2, reviewer_id = $3, review_reason = $4 WHERE assignment_id = $1', [
          event.data.assignmentId,
          event.data.verdict,
          event.data.reviewerId,
          event.data.reason,
        ]);
        return;
      case 'ItemAccepted':
        await this.finalize(tx, event.data.taskId, event.data.answer, 'agreement', event.data.agreement, null);
        return;
      case 'ItemSentToAdjudication':
        await tx.query(`UPDATE annotation_tasks SET status = 'adjudication', agreement = $2, sent_to_adjudication_by = $3 WHERE task_id = $1`, [
          event.data.taskId,
          event.data.agreement,
          event.data.requestedBy,
        ]);
        return;
      case 'ItemAdjudicated':
        await this.finalize(tx, event.data.taskId, event.data.answer, 'adjudication', null, event.data.adjudicatorId);
        return;
      case 'ItemImported':
        await this.finalize(tx, event.data.taskId, event.data.answer, 'import', null, null);
        return;
      case 'AnswersViewed':
        await tx.query('INSERT INTO annotation_answer_views (task_id, viewer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          event.data.taskId,
          event.data.viewerId,
        ]);
        return;
      case 'TaskCancelled':
        await tx.query(`UPDATE annotation_tasks SET status = 'cancelled', cancel_reason = $2 WHERE task_id = $1`, [event.data.taskId, event.data.reason]);
        return;
      case 'AnnotationSetPublished': {
        const d = event.data;
        await tx.query(
          `INSERT INTO annotation_sets (set_id, project_id, version, content_sha256, artifact_key, item_count, left_out_count, left_out,
             pending_count, published_by, published_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (set_id) DO NOTHING`,
          [
            d.setId,
            d.projectId,
            d.version,
            d.contentSha256,
            d.artifact.key,
            d.itemCount,
            d.leftOutCount,
            JSON.stringify(d.leftOut),
            d.pendingCount,
            envelope.actor.id,
            at,
          ],
        );
        return;
      }
      default: {
        const never: never = event;
        throw new Error(`annotation projection: unhandled event ${JSON.stringify(never)}`);
      }
    }
  }

  private async finalize(
    tx: QueryRunner,
    taskId: string,
    answer: unknown,
    source: string,
    agreement: number | null,
    adjudicatorId: string | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE annotation_tasks SET status = 'final', final_answer = $2, final_source = $3, agreement = COALESCE($4, agreement), adjudicator_id = $5
        WHERE task_id = $1`,
      [taskId, JSON.stringify(answer), source, agreement, adjudicatorId],
    );
  }

  /** Tables fed by the log only; the consumed dataset versions and excluded subjects stay. */
  async reset(tx: QueryRunner): Promise<void> {
    await tx.query('TRUNCATE annotation_answer_views, annotation_sets, annotation_assignments, annotation_tasks, annotation_projects');
  }
}
