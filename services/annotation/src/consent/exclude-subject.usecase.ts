import type { QueryRunner } from 'typeorm';
import type { ConsentWithdrawn, LeaveOutReason } from '@trellis/contracts';
import { ANNOTATION_SERVICE_ACTOR } from '../annotation.actors';
import { decideTask } from '../tasks/task.decider';
import { lockExclusions } from '../tasks/task-creation';
import { AnnotationStreams, taskStream } from '../tasks/task.streams';

/** The purposes that concern annotation, as leave-out reasons; a withdrawal of `research` alone does not. */
export function reasonsForWithdrawal(purposes: ConsentWithdrawn['data']['purposes']): LeaveOutReason[] {
  const reasons: LeaveOutReason[] = [];
  if (purposes.includes('human-annotation')) reasons.push('consent-withdrawn:human-annotation');
  if (purposes.includes('model-training')) reasons.push('consent-withdrawn:model-training');
  return reasons;
}

/**
 * A subject withdrew consent (for annotation or training) or was erased: remember it, so that
 * tasks are not created for them and their items are left out of every set published from now
 * on, and cancel their open tasks. Runs in the consumer's transaction, so it happens once.
 */
export class ExcludeSubjectUseCase {
  constructor(private readonly streams: AnnotationStreams) {}

  async exclude(tx: QueryRunner, subjectId: string, reasons: LeaveOutReason[], causationId: string): Promise<number> {
    if (reasons.length === 0) return 0;
    await lockExclusions(tx);
    for (const reason of reasons) {
      await tx.query('INSERT INTO annotation_excluded_subjects (subject_id, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING', [subjectId, reason]);
    }
    const open: { task_id: string }[] = await tx.query(
      `SELECT task_id FROM annotation_tasks WHERE subject_id = $1 AND status IN ('open', 'adjudication') ORDER BY seq FOR UPDATE`,
      [subjectId],
    );
    let cancelled = 0;
    for (const { task_id } of open) {
      const { state, version } = await this.streams.loadTask(task_id);
      const events = decideTask(state, { type: 'CancelTask', reason: reasons[0] });
      await this.streams.append(tx, taskStream(task_id), events, ANNOTATION_SERVICE_ACTOR, version, causationId);
      cancelled += events.length;
    }
    return cancelled;
  }
}
