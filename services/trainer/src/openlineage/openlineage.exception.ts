import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum OpenLineageErrorCode {
  /** The builder was given something the 2-0-2 schema would reject (a run id that is not a UUID, a time without offset). */
  InvalidEvent = 'INVALID_EVENT',
  /** OPENLINEAGE_URL (or its companions) cannot name an HTTP endpoint. */
  InvalidConfiguration = 'INVALID_CONFIGURATION',
}

/**
 * Its own domain rather than a TrainerErrorCode: lineage export is a side channel of the trainer,
 * and delivery failures are results, not errors, so only programming and configuration mistakes
 * are thrown.
 */
export class OpenLineageException extends DomainException<OpenLineageErrorCode> {
  // A bad event or a bad URL stays bad however often it is retried.
  override get transient(): boolean {
    return false;
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case OpenLineageErrorCode.InvalidEvent:
      case OpenLineageErrorCode.InvalidConfiguration:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
