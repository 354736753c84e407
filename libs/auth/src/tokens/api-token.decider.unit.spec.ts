import { deciderSpec } from '@trellis/testing';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { ApiTokenCommand, decideApiToken, evolveApiToken, initialApiTokenState } from './api-token.decider';
import { ApiTokenEvent } from './api-token.events';

const spec = deciderSpec<ReturnType<typeof evolveApiToken>, ApiTokenCommand, ApiTokenEvent>({
  decide: decideApiToken,
  evolve: evolveApiToken,
  initialState: initialApiTokenState,
});

const tokenId = '01a21ecc-a816-75ef-acde-9843b67bfe07';
const now = new Date('2026-11-27T12:00:00Z');
const issued: ApiTokenEvent = { type: 'ApiTokenIssued', data: { tokenId, principalId: 'prn-1', roles: ['auditor'], expiresAt: null } };
const revoked: ApiTokenEvent = { type: 'ApiTokenRevoked', data: { tokenId } };
const issue = (over: Partial<Extract<ApiTokenCommand, { type: 'IssueApiToken' }>> = {}): ApiTokenCommand => ({
  type: 'IssueApiToken',
  tokenId,
  principalId: 'prn-1',
  roles: ['auditor'],
  expiresAt: null,
  now,
  ...over,
});
const code = (expected: AuthErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(AuthException);
  expect((err as AuthException).code).toBe(expected);
};

describe('decideApiToken', () => {
  describe('IssueApiToken', () => {
    it('issues a token with de-duplicated roles and an ISO expiry', () => {
      spec
        .given([])
        .when(issue({ roles: ['auditor', 'steward', 'auditor'], expiresAt: new Date('2027-01-01T00:00:00Z') }))
        .then([{ type: 'ApiTokenIssued', data: { tokenId, principalId: 'prn-1', roles: ['auditor', 'steward'], expiresAt: '2027-01-01T00:00:00.000Z' } }]);
    });

    it('refuses unknown roles, the reserved service role and an empty list, naming them', () => {
      spec
        .given([])
        .when(issue({ roles: ['wizard', 'service'] }))
        .thenThrows((err) => {
          code(AuthErrorCode.InvalidRequest)(err);
          expect((err as Error).message).toMatch(/not: wizard, service/);
        });
      spec
        .given([])
        .when(issue({ roles: [] }))
        .thenThrows(code(AuthErrorCode.InvalidRequest));
    });

    it('refuses an expiry in the past', () => {
      spec
        .given([])
        .when(issue({ expiresAt: new Date('2026-01-01T00:00:00Z') }))
        .thenThrows(code(AuthErrorCode.InvalidRequest));
    });

    it('refuses to issue the same token twice', () => {
      spec.given([issued]).when(issue()).thenThrows(code(AuthErrorCode.InvalidRequest));
    });
  });

  describe('RevokeApiToken', () => {
    it('revokes an active token', () => {
      spec.given([issued]).when({ type: 'RevokeApiToken', tokenId }).then([revoked]);
    });

    it('answers not found for an unknown token and conflict for a revoked one', () => {
      spec.given([]).when({ type: 'RevokeApiToken', tokenId }).thenThrows(code(AuthErrorCode.TokenNotFound));
      spec.given([issued, revoked]).when({ type: 'RevokeApiToken', tokenId }).thenThrows(code(AuthErrorCode.TokenAlreadyRevoked));
    });
  });
});
