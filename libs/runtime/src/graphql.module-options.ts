import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import { AuthModule, Authenticator } from '@trellis/auth';
import { intFromEnv } from '@trellis/common';
import { formatGraphqlError } from './graphql-error.formatter';
import { DEFAULT_GRAPHQL_LIMITS, GraphqlLimits, queryLimitsRule } from './graphql-limits';

export interface GraphqlSettings {
  /** Stack traces and internal messages in responses (TRELLIS_DEV_MODE=1); never in production. */
  devMode: boolean;
  /** Whether the schema may be introspected without a token (TRELLIS_GRAPHQL_PUBLIC_INTROSPECTION=1). */
  publicIntrospection: boolean;
  limits: GraphqlLimits;
}

export function graphqlSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GraphqlSettings {
  return {
    devMode: env.TRELLIS_DEV_MODE === '1',
    publicIntrospection: env.TRELLIS_GRAPHQL_PUBLIC_INTROSPECTION === '1',
    limits: {
      maxRootFields: intFromEnv(env, 'TRELLIS_GRAPHQL_MAX_ROOT_FIELDS', DEFAULT_GRAPHQL_LIMITS.maxRootFields),
      maxDepth: intFromEnv(env, 'TRELLIS_GRAPHQL_MAX_DEPTH', DEFAULT_GRAPHQL_LIMITS.maxDepth),
      maxCost: intFromEnv(env, 'TRELLIS_GRAPHQL_MAX_COST', DEFAULT_GRAPHQL_LIMITS.maxCost),
    },
  };
}

function introspects(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD]: (node) => {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

/** The schema's shape is for callers who hold a token, unless configured public. */
function introspectionNeedsToken(authenticator: Authenticator): ApolloServerPlugin<{ req?: { headers?: Record<string, unknown> } }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, contextValue }) {
          if (!introspects(document)) return;
          const header = contextValue.req?.headers?.authorization;
          try {
            await authenticator.authenticate(typeof header === 'string' ? header : undefined);
          } catch {
            throw new GraphQLError('introspection needs an API token or JWT (Authorization: Bearer ...)', {
              extensions: { code: 'UNAUTHENTICATED', error: 'MISSING_CREDENTIALS', reason: 'INTROSPECTION_NEEDS_TOKEN', http: { status: 401 } },
            });
          }
        },
      };
    },
  };
}

/**
 * The one GraphQL set-up of every process that serves /graphql (the platform, the lineage
 * service): code-first schema, errors mapped once, no stack traces, query limits that count
 * aliases, introspection behind authentication.
 */
export function trellisGraphqlModule(settings: GraphqlSettings = graphqlSettingsFromEnv()): DynamicModule {
  return GraphQLModule.forRootAsync<ApolloDriverConfig>({
    driver: ApolloDriver,
    imports: [AuthModule],
    inject: [Authenticator],
    useFactory: (authenticator: Authenticator): ApolloDriverConfig => ({
      path: '/graphql',
      autoSchemaFile: true,
      sortSchema: true,
      playground: false,
      introspection: true,
      includeStacktraceInErrorResponses: settings.devMode,
      validationRules: [queryLimitsRule(settings.limits)],
      plugins: settings.publicIntrospection ? [] : [introspectionNeedsToken(authenticator)],
      context: ({ req }: { req: unknown }) => ({ req }),
      formatError: (formatted, error) => formatGraphqlError(formatted, error, settings.devMode),
    }),
  });
}
