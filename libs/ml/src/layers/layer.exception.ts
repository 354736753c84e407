import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum LayerErrorCode {
  InvalidConfig = 'LAYER_INVALID_CONFIG',
  InvalidInput = 'LAYER_INVALID_INPUT',
}

/** A layer built with options it cannot have, or called with a tensor of the wrong shape. */
export class LayerException extends DomainException<LayerErrorCode> {
  constructor(code: LayerErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case LayerErrorCode.InvalidConfig:
      case LayerErrorCode.InvalidInput:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
