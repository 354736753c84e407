import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum MetricsErrorCode {
  InvalidInput = 'METRICS_INVALID_INPUT',
}

export class MetricsException extends DomainException<MetricsErrorCode> {
  constructor(code: MetricsErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case MetricsErrorCode.InvalidInput:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}

export function invalidInput(message: string, field?: string): MetricsException {
  return new MetricsException(MetricsErrorCode.InvalidInput, message, field ? [field] : []);
}
