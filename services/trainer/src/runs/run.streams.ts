import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { Actor, EventEnvelope, TRAINER_LOG, trainerContracts, TrainerEvent, TrainingProgressed, TrainingRunEvent } from '@trellis/contracts';
import { aggregateStream, CommandResult, handleCommand, PostgresEventStore } from '@trellis/event-store';
import { OpenLineageRecorder, standsForRunEvent } from '../openlineage/openlineage.recorder';
import { TrainerProjection } from '../read-models/trainer.projection';
import { RunCommand, runDecider, RunState, runStream } from './run.decider';

/** One progress report of a run: what TrainingProgressed says, and when. */
export type RunProgressPoint = Omit<TrainingProgressed['data'], 'runId'> & { at: string };

const target = (streamId: string) => ({ log: TRAINER_LOG, streamId, contracts: trainerContracts });

/** Loads and appends the trainer log's streams, keeping the read model in the same transaction. */
@Injectable()
export class RunStreams {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly projection: TrainerProjection,
    private readonly lineage: OpenLineageRecorder,
  ) {}

  /** Every progress report of a run, in step order as the worker reported them (its loss curve). */
  async progress(runId: string): Promise<RunProgressPoint[]> {
    const events = await this.store.readStream(TRAINER_LOG, runStream(runId));
    return events.flatMap((e) => {
      if (e.type !== 'TrainingProgressed') return [];
      const { runId: _runId, ...point } = e.data as TrainingProgressed['data'];
      return [{ ...point, at: e.occurredAt }];
    });
  }

  load(runId: string, tx?: QueryRunner): Promise<{ state: RunState; version: number }> {
    return aggregateStream(this.store, runDecider, target(runStream(runId)), { queryRunner: tx });
  }

  /** Runs a command against a run's stream in `tx`; `command` may be built from the run's state. */
  handle(
    tx: QueryRunner,
    runId: string,
    command: RunCommand | ((state: RunState) => RunCommand | Promise<RunCommand>),
    actor: Actor,
    causationId?: string,
  ): Promise<CommandResult<RunState, TrainingRunEvent>> {
    return handleCommand(this.store, runDecider, target(runStream(runId)), command, {
      context: { actor, causationId },
      queryRunner: tx,
      afterAppend: async (appended, t) => {
        for (const e of appended) await this.projection.apply(e, t);
        // Reading the run back (its whole stream) only for the few events OpenLineage hears of, not
        // for every TrainingProgressed.
        if (standsForRunEvent(appended)) await this.lineage.record(t, appended, (await this.load(runId, t)).state);
      },
    });
  }

  /** Starts a stream that must not exist yet (a new run, a new base model). */
  async start(tx: QueryRunner, streamId: string, events: TrainerEvent[], actor: Actor): Promise<EventEnvelope[]> {
    const result = await this.store.append(TRAINER_LOG, streamId, events, { actor }, { expectedVersion: 'no_stream', queryRunner: tx });
    for (const e of result.events) await this.projection.apply(e, tx);
    return result.events;
  }
}
