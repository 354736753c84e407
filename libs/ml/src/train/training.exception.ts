import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum TrainingErrorCode {
  InvalidOptions = 'TRAINING_INVALID_OPTIONS',
  InvalidInput = 'TRAINING_INVALID_INPUT',
  /** A non-finite loss or gradient norm; the weights were left as they were before the step. */
  Diverged = 'TRAINING_DIVERGED',
  /** The loss reaches none of the trainable variables. */
  NoGradient = 'TRAINING_NO_GRADIENT',
  CheckpointNotFound = 'TRAINING_CHECKPOINT_NOT_FOUND',
  /** A checkpoint of another format or run (batch size, accumulation, seed, data order). */
  CheckpointIncompatible = 'TRAINING_CHECKPOINT_INCOMPATIBLE',
}

export class TrainingException extends DomainException<TrainingErrorCode> {
  constructor(
    code: TrainingErrorCode,
    message: string,
    fields: string[] = [],
    /** The optimizer step (1-based) that failed, for errors raised while training. */
    readonly step: number | null = null,
  ) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case TrainingErrorCode.InvalidOptions:
      case TrainingErrorCode.InvalidInput:
      case TrainingErrorCode.CheckpointIncompatible:
        return 'validation';
      // The data, model and hyperparameters decide both: the same run fails the same way again
      // (training is seeded), so neither is an internal fault worth retrying.
      case TrainingErrorCode.Diverged:
      case TrainingErrorCode.NoGradient:
        return 'validation';
      case TrainingErrorCode.CheckpointNotFound:
        return 'not_found';
      default:
        return unreachable(this.code);
    }
  }
}
