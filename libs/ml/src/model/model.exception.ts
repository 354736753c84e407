import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum ModelErrorCode {
  InvalidConfig = 'MODEL_INVALID_CONFIG',
  OverParameterBudget = 'MODEL_OVER_PARAMETER_BUDGET',
  InvalidInput = 'MODEL_INVALID_INPUT',
  CheckpointMismatch = 'MODEL_CHECKPOINT_MISMATCH',
}

/** Errors a caller can act on: a bad configuration, input or checkpoint. */
export class ModelException extends DomainException<ModelErrorCode> {
  constructor(code: ModelErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case ModelErrorCode.InvalidConfig:
      case ModelErrorCode.OverParameterBudget:
      case ModelErrorCode.InvalidInput:
      case ModelErrorCode.CheckpointMismatch:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
