import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { ANNOTATION_STORAGE } from '../annotation.tokens';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { AnnotationStreams, requireUuid } from './task.streams';

/**
 * The image of a task and the redacted report that describes it, from the curated area. An
 * annotator gets them only for a task assigned to them; reviewers for any task (they judge
 * the answers against the image).
 */
@Injectable()
export class TaskMediaUseCase {
  constructor(
    private readonly streams: AnnotationStreams,
    @Inject(ANNOTATION_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  async open(taskIdParam: string, what: 'image' | 'report', actor: Actor): Promise<{ stream: Readable; contentType: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const { state } = await this.streams.loadTask(taskId);
    if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.TaskNotFound, `no task ${taskId}`);
    if (actor.role !== 'reviewer' && !state.assignments.some((a) => a.annotatorId === actor.id)) {
      throw new AnnotationException(AnnotationErrorCode.NotYourTask, `task ${taskId} is not assigned to you`);
    }
    if (what === 'report' && !state.reportKey) throw new AnnotationException(AnnotationErrorCode.ReportNotFound, `item ${state.itemId} has no report`);
    const key = what === 'image' ? state.imageKey : state.reportKey!;
    return { stream: await this.storage.get('curated', key), contentType: what === 'image' ? 'image/png' : 'text/plain; charset=utf-8' };
  }
}
