import { GRANTABLE_ROLES, GrantableRole, Role } from '@trellis/contracts';
import { AuthErrorCode, AuthException } from '../auth.exception';
import type { Decider } from '@trellis/event-store';
import type { ApiTokenEvent } from './api-token.events';

export type ApiTokenState = { status: 'none' } | { status: 'active' | 'revoked'; tokenId: string; principalId: string; roles: Role[] };

export type ApiTokenCommand =
  | { type: 'IssueApiToken'; tokenId: string; principalId: string; roles: string[]; expiresAt: Date | null; now: Date }
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
      return [
        {
          type: 'ApiTokenIssued',
          data: {
            tokenId: command.tokenId,
            principalId: command.principalId,
            roles: [...new Set(command.roles)] as GrantableRole[],
            expiresAt: command.expiresAt ? command.expiresAt.toISOString() : null,
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
