import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum MlBackendErrorCode {
  InvalidOptions = 'ML_BACKEND_INVALID_OPTIONS',
  /** No backend in the requested order could be set up, or the cpu backend lacks a kernel. */
  Unavailable = 'ML_BACKEND_UNAVAILABLE',
  InvalidInput = 'ML_BACKEND_INVALID_INPUT',
}

export class MlBackendException extends DomainException<MlBackendErrorCode> {
  constructor(code: MlBackendErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case MlBackendErrorCode.InvalidOptions:
      case MlBackendErrorCode.InvalidInput:
        return 'validation';
      case MlBackendErrorCode.Unavailable:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }

  /** A missing package or native library does not appear by retrying; someone must install it. */
  override get transient(): boolean {
    return false;
  }
}
