import type { QueryRunner } from 'typeorm';
import {
  ANNOTATION_LOG,
  AnnotationEvent,
  EventEnvelope,
  INGESTION_LOG,
  IngestionEvent,
  REGISTRY_LOG,
  RegistryEvent,
  SubjectConsentEvent,
} from '@trellis/contracts';
import type { EventHandler } from '@trellis/messaging';
import { RecordAnnotationSetUseCase } from './annotation-sets/record-annotation-set.usecase';
import { SubjectConsentsProjection } from './consent/subject-consents.projection';
import type { RunUseCases } from './runs/run.usecases';

/**
 * The trainer's consumers (Kafka or in-process; validated against the contract before they get
 * here): consent from the ingestion log, published annotation sets from the annotation log. Thin:
 * each event becomes one call in the inbox's transaction; other events are acknowledged.
 */
export class TrainerIngestionHandler implements EventHandler {
  readonly consumer = 'trainer';
  readonly context = INGESTION_LOG;
  private readonly consents = new SubjectConsentsProjection();

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    const event = { type: envelope.type, data: envelope.data } as IngestionEvent;
    if (SubjectConsentsProjection.handles(event.type)) await this.consents.apply(tx, event as SubjectConsentEvent);
  }
}

export class TrainerAnnotationHandler implements EventHandler {
  readonly consumer = 'trainer';
  readonly context = ANNOTATION_LOG;
  private sets?: RecordAnnotationSetUseCase;

  /** Called by TrainerModule when it initializes (the handler exists before injection does). */
  bind(sets: RecordAnnotationSetUseCase): this {
    this.sets = sets;
    return this;
  }

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    if (!this.sets) throw new Error('the trainer handler received an event before TrainerModule initialized');
    const event = { type: envelope.type, data: envelope.data } as AnnotationEvent;
    if (event.type === 'AnnotationSetPublished') await this.sets.record(tx, event.data, envelope.occurredAt);
  }
}

/**
 * The registry asks for a retrain of a flagged version's run (RetrainRequested): the new run is
 * requested in the inbox's transaction, by the person who asked the registry.
 */
export class TrainerRegistryHandler implements EventHandler {
  readonly consumer = 'trainer';
  readonly context = REGISTRY_LOG;
  private runs?: RunUseCases;

  bind(runs: RunUseCases): this {
    this.runs = runs;
    return this;
  }

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    if (!this.runs) throw new Error('the trainer handler received an event before TrainerModule initialized');
    const event = { type: envelope.type, data: envelope.data } as RegistryEvent;
    if (event.type === 'RetrainRequested') await this.runs.retrainIn(tx, event.data.runId, envelope.actor);
  }
}
