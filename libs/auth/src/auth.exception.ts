import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum AuthErrorCode {
  MissingCredentials = 'MISSING_CREDENTIALS',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  Forbidden = 'FORBIDDEN',
  InvalidRequest = 'INVALID_REQUEST',
  TokenNotFound = 'TOKEN_NOT_FOUND',
  TokenAlreadyRevoked = 'TOKEN_ALREADY_REVOKED',
}

export class AuthException extends DomainException<AuthErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case AuthErrorCode.MissingCredentials:
      case AuthErrorCode.InvalidCredentials:
        return 'unauthenticated';
      case AuthErrorCode.Forbidden:
        return 'forbidden';
      case AuthErrorCode.InvalidRequest:
        return 'validation';
      case AuthErrorCode.TokenNotFound:
        return 'not_found';
      case AuthErrorCode.TokenAlreadyRevoked:
        return 'conflict';
      default:
        return unreachable(this.code);
    }
  }
}
