import { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { asDomainException, GRAPHQL_CODE } from '@trellis/errors';

/** Maps domain errors to GraphQL error codes once, for every resolver (Apollo formatError). */
export function formatGraphqlError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const mapped = asDomainException(unwrapResolverError(error));
  if (!mapped) return formatted;
  return {
    message: mapped.message,
    locations: formatted.locations,
    path: formatted.path,
    extensions: {
      code: GRAPHQL_CODE[mapped.errorClass],
      error: mapped.code,
      reason: mapped.reason,
      ...(mapped.fields?.length ? { fields: mapped.fields } : {}),
    },
  };
}
