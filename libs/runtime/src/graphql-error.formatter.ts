import { HttpException, Logger } from '@nestjs/common';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { asDomainException, ErrorClass, GRAPHQL_CODE } from '@trellis/errors';
import { isDatabaseUnavailable } from './database-unavailable';

const logger = new Logger('graphql');

/** Codes of errors the caller caused (parse, validation, input): their message is safe to show. */
const CALLER_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
]);

function classOfStatus(status: number): ErrorClass {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'validation' : 'internal';
}

/**
 * Maps errors to GraphQL error codes once, for every resolver and mutation (Apollo formatError):
 * domain errors by their class, Nest's HTTP errors by their status, the caller's own mistakes as
 * they are, and anything else as an opaque internal error. Stack traces and server paths never
 * leave the server unless `devMode` (TRELLIS_DEV_MODE=1) is on.
 */
export function formatGraphqlError(formatted: GraphQLFormattedError, error: unknown, devMode = false): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const base = { locations: formatted.locations, path: formatted.path };
  // A plugin's error before execution (no path) carries the domain exception as its originalError.
  const mapped = asDomainException(original) ?? (original instanceof GraphQLError ? asDomainException(original.originalError) : undefined);
  if (mapped) {
    return {
      message: mapped.message,
      ...base,
      extensions: {
        code: GRAPHQL_CODE[mapped.errorClass],
        error: mapped.code,
        reason: mapped.reason,
        ...(mapped.fields?.length ? { fields: mapped.fields } : {}),
      },
    };
  }
  if (original instanceof HttpException) {
    const errorClass = classOfStatus(original.getStatus());
    const code = `HTTP_${original.getStatus()}`;
    if (errorClass !== 'internal') return { message: original.message, ...base, extensions: { code: GRAPHQL_CODE[errorClass], error: code, reason: code } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && CALLER_CODES.has(code)) {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: devMode ? formatted.extensions : extensions };
  }
  if (isDatabaseUnavailable(original)) {
    return {
      message: 'the database is unavailable; retry later',
      ...base,
      extensions: { code: GRAPHQL_CODE.unavailable, error: 'DATABASE_UNAVAILABLE', reason: 'DATABASE_UNAVAILABLE' },
    };
  }
  logger.error(original instanceof Error ? (original.stack ?? original.message) : String(original));
  return {
    message: devMode ? formatted.message : 'internal error',
    ...base,
    extensions: devMode ? { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' } : { code: 'INTERNAL_SERVER_ERROR', error: 'INTERNAL', reason: 'INTERNAL' },
  };
}
