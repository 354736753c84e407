import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum ModelErrorCode {
  InvalidConfig = 'MODEL_INVALID_CONFIG',
  OverParameterBudget = 'MODEL_OVER_PARAMETER_BUDGET',
  /** Token ids, pixels, labels, loss or generation options that do not fit the model. */
  InvalidInput = 'MODEL_INVALID_INPUT',
  /** No linear layer by that module name (setLinear, a registry lookup). */
  UnknownLayer = 'MODEL_UNKNOWN_LAYER',
  /** A layer or parameter name registered twice while building a model. */
  DuplicateName = 'MODEL_DUPLICATE_NAME',
}

/** Errors a caller can act on: a bad configuration, input or layer name. */
export class ModelException extends DomainException<ModelErrorCode> {
  constructor(code: ModelErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case ModelErrorCode.InvalidConfig:
      case ModelErrorCode.OverParameterBudget:
      case ModelErrorCode.InvalidInput:
        return 'validation';
      case ModelErrorCode.UnknownLayer:
        return 'not_found';
      case ModelErrorCode.DuplicateName:
        return 'conflict';
      default:
        return unreachable(this.code);
    }
  }
}
