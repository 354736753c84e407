import { DomainException, ErrorClass, unreachable } from '@trellis/common';

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
