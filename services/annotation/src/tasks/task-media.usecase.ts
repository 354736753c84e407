import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { curatedImageMediaType, type Role } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { ANNOTATION_STORAGE } from '../annotation.tokens';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { TaskState } from './task.decider';
import { AnnotationStreams, requireUuid } from './task.streams';

/** Who asks, with every role they hold (a principal may be annotator and reviewer at once). */
export interface MediaViewer {
  id: string;
  roles: readonly Role[];
}

/**
 * Reviewers may open any task's media (they judge answers against the image); an annotator only
 * while the task is theirs: an assignment that is unfinished, submitted or accepted. Once their
 * answer is rejected or they released it, the task has left them and so has its media.
 */
export function mayOpenTaskMedia(state: Exclude<TaskState, { status: 'none' }>, viewer: MediaViewer): boolean {
  if (viewer.roles.includes('reviewer')) return true;
  return (
    viewer.roles.includes('annotator') &&
    state.assignments.some((a) => a.annotatorId === viewer.id && (a.status === 'assigned' || a.status === 'submitted' || a.status === 'accepted'))
  );
}

/** The image of a task and the redacted report that describes it, from the curated area (see mayOpenTaskMedia). */
@Injectable()
export class TaskMediaUseCase {
  constructor(
    private readonly streams: AnnotationStreams,
    @Inject(ANNOTATION_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  async open(taskIdParam: string, what: 'image' | 'report', viewer: MediaViewer): Promise<{ stream: Readable; contentType: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const { state } = await this.streams.loadTask(taskId);
    if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.TaskNotFound, `no task ${taskId}`);
    if (!mayOpenTaskMedia(state, viewer)) {
      throw new AnnotationException(AnnotationErrorCode.NotYourTask, `task ${taskId} is not assigned to you`);
    }
    if (what === 'report' && !state.reportKey) throw new AnnotationException(AnnotationErrorCode.ReportNotFound, `item ${state.itemId} has no report`);
    if (what === 'report') return { stream: await this.storage.get('curated', state.reportKey!), contentType: 'text/plain; charset=utf-8' };
    // The 224x224 PNG derivative, or a curated image that may be a JPEG: the bytes say which.
    const bytes = await this.storage.getBuffer('curated', state.imageKey);
    return { stream: Readable.from([bytes]), contentType: curatedImageMediaType(bytes) ?? 'application/octet-stream' };
  }
}
