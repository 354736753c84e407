import { DomainException, ErrorClass } from './domain.exception';

export const HTTP_STATUS: Record<ErrorClass, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export const GRAPHQL_CODE: Record<ErrorClass, string> = {
  validation: 'BAD_USER_INPUT',
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  unavailable: 'SERVICE_UNAVAILABLE',
  internal: 'INTERNAL_SERVER_ERROR',
};

export function asDomainException(err: unknown): DomainException | undefined {
  return err instanceof DomainException ? err : undefined;
}
