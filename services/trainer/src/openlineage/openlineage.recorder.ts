import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { EventEnvelope, OPENLINEAGE_LOG, TrainingRunEvent } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import type { RunState } from '../runs/run.decider';
import { TRAINER_SERVICE_ACTOR } from '../trainer.actors';
import {
  annotationSetDataset,
  artifactDatasets,
  buildRunEvent,
  failureError,
  LineageDataset,
  OpenLineageRunEvent,
  RunEventType,
  snapshotDataset,
  trainingJob,
} from './openlineage-event';

export const openLineageStream = (runId: string) => `openlineage-run-${runId}`;

/** The trainer events that stand for an OpenLineage run event; progress, the bulk of a run's events, does not. */
const LIFECYCLE = new Set(['TrainingStarted', 'TrainingCheckpointed', 'TrainingCompleted', 'TrainingFailed', 'TrainingCancelled']);

export function standsForRunEvent(appended: EventEnvelope[]): boolean {
  return appended.some((e) => LIFECYCLE.has(e.type));
}

/**
 * The OpenLineage run events a run's trainer events stand for: START when it first starts,
 * RUNNING when it resumes and at each checkpoint, then COMPLETE, FAIL or ABORT (a run that ends
 * before it ever started gets its START first, as OpenLineage expects one per run). Inputs are
 * the annotation sets and the snapshot; outputs the artifacts. Pure: `state` is the run after
 * the event. Event times are the trainer events' own, so a replay gives the same events.
 */
export function runEventsFor(event: EventEnvelope, state: RunState, startedBefore: boolean): OpenLineageRunEvent[] {
  const e = { type: event.type, data: event.data } as TrainingRunEvent;
  const request = state.request!;
  const inputs: LineageDataset[] = [
    ...request.annotationSets.map((s) => annotationSetDataset(s)),
    ...(state.snapshot ? [snapshotDataset(state.snapshot.snapshot)] : []),
  ];
  const make = (eventType: RunEventType, outputs: LineageDataset[] = [], error?: { message: string }) =>
    buildRunEvent({
      eventType,
      eventTime: event.occurredAt,
      runId: request.runId,
      job: trainingJob(request.method),
      inputs,
      outputs,
      facets: error ? { error } : undefined,
    });
  const startFirst = startedBefore ? [] : [make('START')];
  switch (e.type) {
    case 'TrainingStarted':
      return [startedBefore ? make('RUNNING') : make('START')];
    case 'TrainingCheckpointed':
      return [make('RUNNING')];
    case 'TrainingCompleted':
      return [...startFirst, make('COMPLETE', artifactDatasets(e.data.artifacts, state.snapshot?.snapshot ?? null))];
    case 'TrainingFailed':
      return [...startFirst, make('FAIL', [], failureError(e.data))];
    case 'TrainingCancelled':
      return [...startFirst, make('ABORT')];
    default:
      return [];
  }
}

/** Appends a run's OpenLineage events to the `openlineage` log in the transaction of the trainer events they stand for. */
@Injectable()
export class OpenLineageRecorder {
  constructor(private readonly store: PostgresEventStore) {}

  async record(tx: QueryRunner, appended: EventEnvelope[], stateAfter: RunState): Promise<void> {
    if (!stateAfter.request) return;
    const stream = openLineageStream(stateAfter.request.runId);
    const existing = await this.store.readStream(OPENLINEAGE_LOG, stream, 1, tx);
    let started = existing.length > 0;
    const events: OpenLineageRunEvent[] = [];
    for (const e of appended) {
      const made = runEventsFor(e, stateAfter, started);
      if (made.length > 0) started = true;
      events.push(...made);
    }
    if (events.length === 0) return;
    await this.store.append(
      OPENLINEAGE_LOG,
      stream,
      events.map((data) => ({ type: 'OpenLineageRunEvent', data })),
      { actor: TRAINER_SERVICE_ACTOR },
      { expectedVersion: existing.length === 0 ? 'no_stream' : existing.length, queryRunner: tx },
    );
  }
}
