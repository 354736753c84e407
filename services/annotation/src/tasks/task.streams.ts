import type { QueryRunner } from 'typeorm';
import { Actor, ANNOTATION_LOG, AnnotationEvent, AnnotationTaskEvent, EventEnvelope } from '@trellis/contracts';
import { EventStoreErrorCode, EventStoreException, PostgresEventStore } from '@trellis/event-store';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { AnnotationProjection } from '../read-models/annotation.projection';
import { evolveTask, initialTaskState, TaskState } from './task.decider';

export const taskStream = (taskId: string) => `annotation-task-${taskId}`;
export const projectStream = (projectId: string) => `annotation-project-${projectId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function requireUuid(value: string, what: string, field: string): string {
  if (!UUID.test(value)) throw new AnnotationException(AnnotationErrorCode.InvalidRequest, `${what} must be a UUID, got ${JSON.stringify(value)}`, [field]);
  return value.toLowerCase();
}

/** Loads and appends the annotation log's streams, keeping the read model in the same transaction. */
export class AnnotationStreams {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly projection: AnnotationProjection,
  ) {}

  async loadTask(taskId: string): Promise<{ state: TaskState; version: number }> {
    const history = await this.store.readStream(ANNOTATION_LOG, taskStream(taskId));
    const state = history.reduce<TaskState>((s, e) => evolveTask(s, { type: e.type, data: e.data } as AnnotationTaskEvent), initialTaskState);
    return { state, version: history.length };
  }

  async readStream(streamId: string): Promise<AnnotationEvent[]> {
    return (await this.store.readStream(ANNOTATION_LOG, streamId)).map((e) => ({ type: e.type, data: e.data }) as AnnotationEvent);
  }

  async append(tx: QueryRunner, streamId: string, events: AnnotationEvent[], actor: Actor, expectedVersion: number | 'no_stream', causationId?: string): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const result = await this.store.append(ANNOTATION_LOG, streamId, events, { actor, causationId }, { expectedVersion, queryRunner: tx });
    for (const e of result.events) await this.projection.apply(e, tx);
    return result.events;
  }
}

/** Runs `attempt` again when another writer changed the stream in between (optimistic concurrency). */
export async function retryOnConflict<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const conflict = err instanceof EventStoreException && err.code === EventStoreErrorCode.WrongExpectedVersion;
      if (!conflict) throw err;
      if (i >= tries) throw new AnnotationException(AnnotationErrorCode.ConcurrentChange, 'the item changed concurrently too often; try again');
    }
  }
}
