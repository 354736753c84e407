import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum LineageErrorCode {
  InvalidQuery = 'INVALID_QUERY',
}

export class LineageException extends DomainException<LineageErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case LineageErrorCode.InvalidQuery:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
