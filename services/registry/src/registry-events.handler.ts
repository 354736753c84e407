import type { QueryRunner } from 'typeorm';
import { ANNOTATION_LOG, AnnotationEvent, EventEnvelope, INGESTION_LOG, IngestionEvent, TRAINER_LOG, TrainerEvent } from '@trellis/contracts';
import type { EventHandler } from '@trellis/messaging';
import { FlagVersionsUseCase } from './consent/flag-versions.usecase';
import { RegisterVersionUseCase } from './models/register-version.usecase';
import { UpstreamFactsRecorder } from './upstream/upstream-facts.recorder';
import { REGISTRY_SERVICE_ACTOR } from './consent/flag-versions.usecase';

/** What the handlers call; bound when RegistryModule initializes (the handlers exist before injection does). */
export interface RegistryHandlerDeps {
  facts: UpstreamFactsRecorder;
  versions: RegisterVersionUseCase;
  flags: FlagVersionsUseCase;
}

abstract class BoundHandler implements EventHandler {
  readonly consumer = 'registry';
  abstract readonly context: string;
  protected deps?: RegistryHandlerDeps;

  bind(deps: RegistryHandlerDeps): this {
    this.deps = deps;
    return this;
  }

  protected get bound(): RegistryHandlerDeps {
    if (!this.deps) throw new Error('the registry handler received an event before RegistryModule initialized');
    return this.deps;
  }

  abstract handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void>;
}

/**
 * The registry's consumers (Kafka or in-process; validated against the contract before they get
 * here). Thin: each event becomes one call in the inbox's transaction; others are acknowledged.
 * A completed run becomes a model version.
 */
export class RegistryTrainerHandler extends BoundHandler {
  readonly context = TRAINER_LOG;

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const { facts, versions } = this.bound;
    const event = { type: envelope.type, data: envelope.data } as TrainerEvent;
    switch (event.type) {
      case 'BaseModelRegistered':
        return facts.baseModel(tx, event.data);
      case 'TrainingRequested':
        return facts.runRequested(tx, event.data, envelope.actor.id, envelope.occurredAt);
      case 'TrainingSnapshotFrozen':
        return facts.snapshotFrozen(tx, event.data);
      case 'TrainingCompleted':
        await facts.runCompleted(tx, event.data);
        return versions.fromRun(tx, event.data, REGISTRY_SERVICE_ACTOR);
      default:
        return;
    }
  }
}

export class RegistryAnnotationHandler extends BoundHandler {
  readonly context = ANNOTATION_LOG;

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const event = { type: envelope.type, data: envelope.data } as AnnotationEvent;
    if (event.type === 'AnnotationSetPublished') await this.bound.facts.annotationSet(tx, event.data, envelope.occurredAt);
  }
}

export class RegistryIngestionHandler extends BoundHandler {
  readonly context = INGESTION_LOG;

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const { facts, flags } = this.bound;
    const event = { type: envelope.type, data: envelope.data } as IngestionEvent;
    switch (event.type) {
      case 'AssetIngested':
        return facts.assetIngested(tx, event.data);
      case 'ConsentWithdrawn':
        return flags.onWithdrawn(tx, event.data);
      case 'SubjectErased':
        return flags.onErased(tx, event.data);
      default:
        return;
    }
  }
}
