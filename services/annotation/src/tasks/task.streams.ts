import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import {
  Actor,
  ANNOTATION_LOG,
  annotationContracts,
  AnnotationEvent,
  AnnotationProjectEvent,
  AnnotationTaskEvent,
  EventEnvelope,
  isUuid,
} from '@trellis/contracts';
import { aggregateStream, CommandResult, Decider, handleCommand, PostgresEventStore, retryOnConflict as retryStreamConflicts } from '@trellis/event-store';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { AnnotationProjection } from '../read-models/annotation.projection';
import { decideProject, evolveProject, initialProjectState, ProjectCommand, ProjectState } from '../projects/project.decider';
import { decideTask, evolveTask, initialTaskState, TaskCommand, TaskState } from './task.decider';

export const taskStream = (taskId: string) => `annotation-task-${taskId}`;
export const projectStream = (projectId: string) => `annotation-project-${projectId}`;

export const taskDecider: Decider<TaskState, TaskCommand, AnnotationTaskEvent> = { decide: decideTask, evolve: evolveTask, initialState: initialTaskState };
export const projectDecider: Decider<ProjectState, ProjectCommand, AnnotationProjectEvent> = {
  decide: decideProject,
  evolve: evolveProject,
  initialState: initialProjectState,
};

const target = (streamId: string) => ({ log: ANNOTATION_LOG, streamId, contracts: annotationContracts });

export function requireUuid(value: string, what: string, field: string): string {
  if (!isUuid(value)) throw new AnnotationException(AnnotationErrorCode.InvalidRequest, `${what} must be a UUID, got ${JSON.stringify(value)}`, [field]);
  return value.toLowerCase();
}

/** Loads and appends the annotation log's streams, keeping the read model in the same transaction. */
@Injectable()
export class AnnotationStreams {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly projection: AnnotationProjection,
  ) {}

  loadTask(taskId: string): Promise<{ state: TaskState; version: number }> {
    return aggregateStream(this.store, taskDecider, target(taskStream(taskId)));
  }

  /**
   * Runs a command against one of the log's streams in `tx`: read, decide, append, and the read
   * model updated in the same transaction. `command` may be built from the stream's state.
   */
  handle<State, Command, Event extends AnnotationEvent>(
    tx: QueryRunner,
    streamId: string,
    decider: Decider<State, Command, Event>,
    command: Command | ((state: State) => Command | Promise<Command>),
    actor: Actor,
    causationId?: string,
  ): Promise<CommandResult<State, Event>> {
    return handleCommand(this.store, decider, target(streamId), command, {
      context: { actor, causationId },
      queryRunner: tx,
      afterAppend: async (appended, t) => {
        for (const e of appended) await this.projection.apply(e, t);
      },
    });
  }

  /**
   * Starts a stream (a new project or task) with events decided from the initial state: there is
   * nothing to read, and the append fails if the stream exists already.
   */
  async start(tx: QueryRunner, streamId: string, events: AnnotationEvent[], actor: Actor, causationId?: string): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const result = await this.store.append(ANNOTATION_LOG, streamId, events, { actor, causationId }, { expectedVersion: 'no_stream', queryRunner: tx });
    for (const e of result.events) await this.projection.apply(e, tx);
    return result.events;
  }
}

/** Runs `attempt` again when another writer changed the stream in between (optimistic concurrency). */
export function retryOnConflict<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  return retryStreamConflicts(
    attempt,
    () => new AnnotationException(AnnotationErrorCode.ConcurrentChange, 'the item changed concurrently too often; try again'),
    tries,
  );
}
