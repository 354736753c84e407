import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum AuthErrorCode {
  MissingCredentials = 'MISSING_CREDENTIALS',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  Forbidden = 'FORBIDDEN',
  InvalidRequest = 'INVALID_REQUEST',
  TokenNotFound = 'TOKEN_NOT_FOUND',
  TokenAlreadyRevoked = 'TOKEN_ALREADY_REVOKED',
  /** No personal details are kept for that principal (never set, or erased already). */
  PrincipalNotFound = 'PRINCIPAL_NOT_FOUND',
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
      case AuthErrorCode.PrincipalNotFound:
        return 'not_found';
      case AuthErrorCode.TokenAlreadyRevoked:
        return 'conflict';
      default:
        return unreachable(this.code);
    }
  }
}
