import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum TrainerErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  RunNotFound = 'RUN_NOT_FOUND',
  BaseModelNotFound = 'BASE_MODEL_NOT_FOUND',
  RunFinished = 'RUN_FINISHED',
  RunNotFinished = 'RUN_NOT_FINISHED',
  ConcurrentChange = 'CONCURRENT_CHANGE',
  /** A stored artifact (set, manifest, checkpoint) does not match the hash its event carries. */
  ArtifactCorrupt = 'ARTIFACT_CORRUPT',
  /** The trainer was asked to do something no trainer process is configured for. */
  Unavailable = 'UNAVAILABLE',
}

export class TrainerException extends DomainException<TrainerErrorCode> {
  override get transient(): boolean {
    return this.code === TrainerErrorCode.ConcurrentChange || this.errorClass === 'internal';
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case TrainerErrorCode.InvalidRequest:
        return 'validation';
      case TrainerErrorCode.RunNotFound:
      case TrainerErrorCode.BaseModelNotFound:
        return 'not_found';
      case TrainerErrorCode.RunFinished:
      case TrainerErrorCode.RunNotFinished:
      case TrainerErrorCode.ConcurrentChange:
        return 'conflict';
      case TrainerErrorCode.ArtifactCorrupt:
        return 'internal';
      case TrainerErrorCode.Unavailable:
        return 'unavailable';
      default:
        return unreachable(this.code);
    }
  }
}
