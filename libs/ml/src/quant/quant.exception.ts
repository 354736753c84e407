import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum QuantErrorCode {
  InvalidOptions = 'QUANT_INVALID_OPTIONS',
  InvalidInput = 'QUANT_INVALID_INPUT',
  /** A module name given to quantizeModel is empty or matches no linear layer. */
  InvalidTarget = 'QUANT_INVALID_TARGET',
  /** Only a plain float Linear can be quantized (not a LoRA wrapper, not an NF4 layer again). */
  UnsupportedLayer = 'QUANT_UNSUPPORTED_LAYER',
}

export class QuantException extends DomainException<QuantErrorCode> {
  constructor(code: QuantErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case QuantErrorCode.InvalidOptions:
      case QuantErrorCode.InvalidInput:
      case QuantErrorCode.InvalidTarget:
      case QuantErrorCode.UnsupportedLayer:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
