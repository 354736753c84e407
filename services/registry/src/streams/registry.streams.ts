import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { Actor, EventEnvelope, REGISTRY_LOG, registryContracts, RegisteredModelEvent, EvaluationEvent } from '@trellis/contracts';
import { aggregateStream, CommandResult, handleCommand, PostgresEventStore } from '@trellis/event-store';
import { EvaluationCommand, evaluationDecider, EvaluationState, evaluationStream } from '../evaluation/evaluation.decider';
import { RegisteredModelCommand, registeredModelDecider, RegisteredModelState, registeredModelStream } from '../models/registered-model.decider';
import { RegistryProjection } from '../read-models/registry.projection';
import { RegistryEventsOutbox } from './registry-events.outbox';

const target = (streamId: string) => ({ log: REGISTRY_LOG, streamId, contracts: registryContracts });

/**
 * Loads and appends the registry log's two kinds of streams (a registered model, an evaluation),
 * keeping the read model and the webhook outbox in the appending transaction: a delivery exists
 * exactly when its event does.
 */
@Injectable()
export class RegistryStreams {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly projection: RegistryProjection,
    private readonly outbox: RegistryEventsOutbox,
  ) {}

  loadModel(modelId: string, tx?: QueryRunner): Promise<{ state: RegisteredModelState; version: number }> {
    return aggregateStream(this.store, registeredModelDecider, target(registeredModelStream(modelId)), { queryRunner: tx });
  }

  loadEvaluation(evaluationId: string, tx?: QueryRunner): Promise<{ state: EvaluationState; version: number }> {
    return aggregateStream(this.store, evaluationDecider, target(evaluationStream(evaluationId)), { queryRunner: tx });
  }

  model(
    tx: QueryRunner,
    modelId: string,
    command: RegisteredModelCommand | ((state: RegisteredModelState) => RegisteredModelCommand | Promise<RegisteredModelCommand>),
    actor: Actor,
  ): Promise<CommandResult<RegisteredModelState, RegisteredModelEvent>> {
    return handleCommand(this.store, registeredModelDecider, target(registeredModelStream(modelId)), command, this.options(tx, actor));
  }

  evaluation(
    tx: QueryRunner,
    evaluationId: string,
    command: EvaluationCommand | ((state: EvaluationState) => EvaluationCommand | Promise<EvaluationCommand>),
    actor: Actor,
  ): Promise<CommandResult<EvaluationState, EvaluationEvent>> {
    return handleCommand(this.store, evaluationDecider, target(evaluationStream(evaluationId)), command, this.options(tx, actor));
  }

  private options(tx: QueryRunner, actor: Actor) {
    return {
      context: { actor },
      queryRunner: tx,
      afterAppend: async (appended: EventEnvelope[], t: QueryRunner) => {
        for (const e of appended) {
          await this.projection.apply(e, t);
          await this.outbox.enqueue(t, e);
        }
      },
    };
  }
}
