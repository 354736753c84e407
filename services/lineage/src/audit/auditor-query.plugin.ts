import { Logger } from '@nestjs/common';
import { Plugin } from '@nestjs/apollo';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { v7 as uuidv7 } from 'uuid';
import { AuthException, Authenticator, Principal } from '@trellis/auth';
import { AUDIT_LOG, AuditorQueried } from '@trellis/contracts';
import { HTTP_STATUS } from '@trellis/errors';
import { PostgresEventStore } from '@trellis/event-store';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { auditorQueriedData } from './auditor-queried.event';

interface GraphqlContext {
  req?: { headers?: Record<string, string | string[] | undefined> };
}

/**
 * Auditors are audited: every operation of a principal holding the `auditor` role is appended to
 * the `audit` log after it is parsed and validated and before anything of it runs. When the
 * append fails the operation is refused (SERVICE_UNAVAILABLE, `AUDIT_UNAVAILABLE`): nothing an
 * auditor reads goes unrecorded. Who is not an auditor, or not authenticated, passes through
 * untouched; the guard decides what they may do.
 */
@Plugin()
export class AuditorQueryPlugin implements ApolloServerPlugin<GraphqlContext> {
  private readonly logger = new Logger('audit');

  constructor(
    private readonly authenticator: Authenticator,
    private readonly store: PostgresEventStore,
  ) {}

  async requestDidStart(): Promise<GraphQLRequestListener<GraphqlContext>> {
    return {
      didResolveOperation: async ({ document, operation, source, request, contextValue }) => {
        let principal: Principal | undefined;
        try {
          principal = await this.principalOf(contextValue);
          // Without an operation Apollo runs nothing (didResolveOperation always has one).
          if (!principal?.roles.includes('auditor') || !operation) return;
          const event: AuditorQueried = { type: 'AuditorQueried', data: auditorQueriedData({ document, operation, source, variables: request.variables }) };
          await this.store.append(
            AUDIT_LOG,
            `auditor-query-${uuidv7()}`,
            [event],
            { actor: { id: principal.id, role: 'auditor' } },
            { expectedVersion: 'no_stream' },
          );
        } catch (err) {
          // The cause's message may quote values; its class is enough to find it in the database's own log.
          this.logger.error(`a GraphQL operation was refused: recording it in the audit log failed (${err instanceof Error ? err.name : typeof err})`);
          const refused = new LineageException(
            LineageErrorCode.AuditUnavailable,
            'the query was not run: it could not be recorded in the audit log; retry later',
          );
          // Thrown before execution, this error reaches the formatter as a GraphQLError; the
          // domain exception rides along as its originalError and is mapped there, once.
          throw new GraphQLError(refused.message, { originalError: refused, extensions: { http: { status: HTTP_STATUS[refused.errorClass] } } });
        }
      },
    };
  }

  /**
   * The caller, or undefined when the credentials are missing or invalid (the guard refuses those
   * anyway). Any other failure (the token table unreachable) is thrown: whether the caller is an
   * auditor is then unknown, and the guard's own lookup might still succeed a moment later.
   */
  private async principalOf(context: GraphqlContext): Promise<Principal | undefined> {
    const header = context.req?.headers?.authorization;
    try {
      return await this.authenticator.authenticate(Array.isArray(header) ? header[0] : header);
    } catch (err) {
      if (err instanceof AuthException) return undefined;
      throw err;
    }
  }
}
