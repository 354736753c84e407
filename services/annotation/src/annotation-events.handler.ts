import type { QueryRunner } from 'typeorm';
import { EventEnvelope, INGESTION_LOG, IngestionEvent } from '@trellis/contracts';
import type { EventHandler } from '@trellis/messaging';
import { ExcludeSubjectUseCase, reasonsForWithdrawal } from './consent/exclude-subject.usecase';
import { RecordDatasetVersionUseCase } from './dataset-versions/record-dataset-version.usecase';

/**
 * The annotation service's consumer of ingestion events (Kafka or in-process; validated against
 * the contract before it gets here). Thin: each event becomes a use-case call in the inbox's
 * transaction. Events it does not need are acknowledged without effect.
 */
export class AnnotationEventsHandler implements EventHandler {
  readonly consumer = 'annotation';
  readonly context = INGESTION_LOG;

  private versions?: RecordDatasetVersionUseCase;
  private subjects?: ExcludeSubjectUseCase;

  /** Called by AnnotationModule when it initializes (the handler exists before injection does). */
  bind(versions: RecordDatasetVersionUseCase, subjects: ExcludeSubjectUseCase): this {
    this.versions = versions;
    this.subjects = subjects;
    return this;
  }

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    if (!this.versions || !this.subjects) throw new Error('the annotation handler received an event before AnnotationModule initialized');
    const event = { type: envelope.type, data: envelope.data } as IngestionEvent;
    switch (event.type) {
      case 'DatasetVersionPublished':
        await this.versions!.record(tx, event.data, envelope.eventId);
        return;
      case 'ConsentWithdrawn':
        await this.subjects!.exclude(tx, event.data.subjectId, reasonsForWithdrawal(event.data.purposes), envelope.eventId);
        return;
      case 'SubjectErased':
        await this.subjects!.exclude(tx, event.data.subjectId, ['subject-erased'], envelope.eventId);
        return;
      default:
        return;
    }
  }
}
