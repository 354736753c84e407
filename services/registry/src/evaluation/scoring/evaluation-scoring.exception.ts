import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

/** The codes an evaluation run can fail with; the last three are EVALUATION_FAILURE_CODES of @trellis/contracts, so a worker reports them as they are. */
export enum EvaluationScoringErrorCode {
  /** The scorer or the job was called with something it cannot score (a programming error upstream). */
  InvalidInput = 'INVALID_INPUT',
  /** The base checkpoint or the run's artifacts are missing, malformed or do not fit each other. */
  ModelUnreadable = 'MODEL_UNREADABLE',
  /** The items file or an image cannot be read. */
  DataUnreadable = 'DATA_UNREADABLE',
  NothingToScore = 'NOTHING_TO_SCORE',
}

export class EvaluationScoringException extends DomainException<EvaluationScoringErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case EvaluationScoringErrorCode.InvalidInput:
      case EvaluationScoringErrorCode.ModelUnreadable:
      case EvaluationScoringErrorCode.DataUnreadable:
      case EvaluationScoringErrorCode.NothingToScore:
        // Trying the same files again gives the same answer.
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
