import type { QueryRunner } from 'typeorm';
import { Injectable, Logger } from '@nestjs/common';
import type { ConsentWithdrawn, LeaveOutReason } from '@trellis/contracts';
import { EventStoreErrorCode, EventStoreException } from '@trellis/event-store';
import { ANNOTATION_SERVICE_ACTOR } from '../annotation.actors';
import { lockExclusions } from '../tasks/task-creation';
import { AnnotationStreams, taskDecider, taskStream } from '../tasks/task.streams';

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
@Injectable()
export class ExcludeSubjectUseCase {
  private readonly logger = new Logger('annotation');

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
    for (const { task_id } of open) cancelled += await this.cancel(tx, task_id, reasons[0], causationId);
    return cancelled;
  }

  /**
   * Cancels one task inside the consumer's transaction. An annotator may write to the task between
   * our load and our append; that conflict rolls back to a savepoint and the task is reloaded, so
   * it can never abort the transaction that records the exclusion (the exclusion row is written
   * first, and survives even if the retries run out: sets and task creation already honour it).
   */
  private async cancel(tx: QueryRunner, taskId: string, reason: LeaveOutReason, causationId: string, tries = 20): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      await tx.query('SAVEPOINT annotation_cancel_task');
      try {
        const { newEvents } = await this.streams.handle(
          tx,
          taskStream(taskId),
          taskDecider,
          { type: 'CancelTask', reason },
          ANNOTATION_SERVICE_ACTOR,
          causationId,
        );
        await tx.query('RELEASE SAVEPOINT annotation_cancel_task');
        return newEvents.length;
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT annotation_cancel_task');
        const conflict = err instanceof EventStoreException && err.code === EventStoreErrorCode.WrongExpectedVersion;
        if (!conflict) throw err;
        if (attempt >= tries) {
          this.logger.warn(`task ${taskId}: still changing after ${tries} attempts to cancel it; its subject stays excluded and it is left out of every set`);
          return 0;
        }
      }
    }
  }
}
