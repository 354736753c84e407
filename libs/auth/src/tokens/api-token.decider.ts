import { GRANTABLE_ROLES, GrantableRole, Role } from '@trellis/contracts';
import { AuthErrorCode, AuthException } from '../auth.exception';
import type { Decider } from '@trellis/event-store';
import type { ApiTokenEvent } from './api-token.events';

export type ApiTokenState = { status: 'none' } | { status: 'active' | 'revoked'; tokenId: string; principalId: string; roles: Role[] };

/**
 * Roles whose acts are a person's own judgement (annotations, reviews, approvals) or power over
 * others (admin): a principal that was ever issued one belongs to a person, as does one with a
 * display name. Stewards, engineers and auditors are often pipelines, CI jobs and monitors.
 */
export const PERSON_ROLES: readonly Role[] = ['annotator', 'reviewer', 'approver', 'admin'];

export type ApiTokenCommand =
  | {
      type: 'IssueApiToken';
      tokenId: string;
      principalId: string;
      roles: string[];
      expiresAt: Date | null;
      now: Date;
      /** The principal issuing the token. */
      issuerId: string;
      /** principalId was minted for this token (a new principal), not named by the request. */
      newPrincipal: boolean;
      /** The request's explicit flag for a token under another principal's id. */
      onBehalfOf: boolean;
      /** Looked up by the use case: principalId has a display name or was issued a PERSON_ROLES role. */
      principalIsPerson: boolean;
      /** TRELLIS_ALLOW_TOKENS_FOR_PEOPLE=1 */
      allowTokensForPeople: boolean;
    }
  | { type: 'RevokeApiToken'; tokenId: string };

export const initialApiTokenState: ApiTokenState = { status: 'none' };

export function decideApiToken(state: ApiTokenState, command: ApiTokenCommand): ApiTokenEvent[] {
  switch (command.type) {
    case 'IssueApiToken': {
      if (state.status !== 'none') throw new AuthException(AuthErrorCode.InvalidRequest, `token ${command.tokenId} already exists`);
      const unknown = command.roles.filter((r) => !(GRANTABLE_ROLES as readonly string[]).includes(r));
      if (command.roles.length === 0 || unknown.length > 0) {
        throw new AuthException(
          AuthErrorCode.InvalidRequest,
          `roles must be a non-empty list of ${GRANTABLE_ROLES.join(', ')}${unknown.length ? `; not: ${unknown.join(', ')}` : ''}`,
        );
      }
      if (command.expiresAt && command.expiresAt <= command.now) {
        throw new AuthException(AuthErrorCode.InvalidRequest, 'expiresAt must be in the future');
      }
      // A token under someone else's id lets its holder write events as them.
      const forAnother = !command.newPrincipal && command.principalId !== command.issuerId;
      if (forAnother && !command.onBehalfOf) {
        throw new AuthException(
          AuthErrorCode.InvalidRequest,
          'principalId names another principal: issuing a token that acts as them needs onBehalfOf: true (and is recorded)',
          ['body.onBehalfOf'],
        );
      }
      if (command.onBehalfOf && !forAnother) {
        throw new AuthException(AuthErrorCode.InvalidRequest, 'onBehalfOf: true needs the principalId of another, existing principal', ['body.onBehalfOf']);
      }
      if (forAnother && command.principalIsPerson && !command.allowTokensForPeople) {
        throw new AuthException(
          AuthErrorCode.Forbidden,
          'that principal belongs to a person (a display name, or a token with a person role): tokens acting as people are refused unless TRELLIS_ALLOW_TOKENS_FOR_PEOPLE=1',
        );
      }
      return [
        {
          type: 'ApiTokenIssued',
          data: {
            tokenId: command.tokenId,
            principalId: command.principalId,
            roles: [...new Set(command.roles)] as GrantableRole[],
            expiresAt: command.expiresAt ? command.expiresAt.toISOString() : null,
            issuedBy: command.issuerId,
            onBehalfOf: forAnother,
          },
        },
      ];
    }
    case 'RevokeApiToken':
      if (state.status === 'none') throw new AuthException(AuthErrorCode.TokenNotFound, `no token ${command.tokenId}`);
      if (state.status === 'revoked') throw new AuthException(AuthErrorCode.TokenAlreadyRevoked, `token ${command.tokenId} is already revoked`);
      return [{ type: 'ApiTokenRevoked', data: { tokenId: command.tokenId } }];
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveApiToken(state: ApiTokenState, event: ApiTokenEvent): ApiTokenState {
  switch (event.type) {
    case 'ApiTokenIssued':
      return { status: 'active', tokenId: event.data.tokenId, principalId: event.data.principalId, roles: event.data.roles as Role[] };
    case 'ApiTokenRevoked':
      return state.status === 'none' ? state : { ...state, status: 'revoked' };
  }
}

export const apiTokenDecider: Decider<ApiTokenState, ApiTokenCommand, ApiTokenEvent> = {
  decide: decideApiToken,
  evolve: evolveApiToken,
  initialState: initialApiTokenState,
};
