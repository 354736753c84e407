import { deciderSpec } from '@trellis/testing';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { ApiTokenCommand, decideApiToken, evolveApiToken, initialApiTokenState } from './api-token.decider';
import { ApiTokenEvent, authContracts } from './api-token.events';

const spec = deciderSpec<ReturnType<typeof evolveApiToken>, ApiTokenCommand, ApiTokenEvent>({
  decide: decideApiToken,
  evolve: evolveApiToken,
  initialState: initialApiTokenState,
});

const tokenId = '01a21ecc-a816-75ef-acde-9843b67bfe07';
const now = new Date('2026-11-27T12:00:00Z');
const issued: ApiTokenEvent = {
  type: 'ApiTokenIssued',
  data: { tokenId, principalId: 'prn-1', roles: ['auditor'], expiresAt: null, issuedBy: 'prn-admin', onBehalfOf: false },
};
const revoked: ApiTokenEvent = { type: 'ApiTokenRevoked', data: { tokenId } };
const issue = (over: Partial<Extract<ApiTokenCommand, { type: 'IssueApiToken' }>> = {}): ApiTokenCommand => ({
  type: 'IssueApiToken',
  tokenId,
  principalId: 'prn-1',
  roles: ['auditor'],
  expiresAt: null,
  now,
  issuerId: 'prn-admin',
  newPrincipal: true,
  onBehalfOf: false,
  principalIsPerson: false,
  allowTokensForPeople: false,
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
        .then([
          {
            type: 'ApiTokenIssued',
            data: {
              tokenId,
              principalId: 'prn-1',
              roles: ['auditor', 'steward'],
              expiresAt: '2027-01-01T00:00:00.000Z',
              issuedBy: 'prn-admin',
              onBehalfOf: false,
            },
          },
        ]);
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

describe('issue 11 item 10: roles', () => {
  describe('a token under another principal', () => {
    const forBot = { principalId: 'ci-bot', newPrincipal: false };

    it('needs the explicit onBehalfOf flag', () => {
      spec.given([]).when(issue(forBot)).thenThrows(code(AuthErrorCode.InvalidRequest));
    });

    it('is issued with the flag and records both principals', () => {
      spec
        .given([])
        .when(issue({ ...forBot, onBehalfOf: true }))
        .then([
          {
            type: 'ApiTokenIssued',
            data: { tokenId, principalId: 'ci-bot', roles: ['auditor'], expiresAt: null, issuedBy: 'prn-admin', onBehalfOf: true },
          },
        ]);
    });

    it('is refused for a principal that belongs to a person, unless configured', () => {
      spec
        .given([])
        .when(issue({ ...forBot, onBehalfOf: true, principalIsPerson: true }))
        .thenThrows(code(AuthErrorCode.Forbidden));
      spec
        .given([])
        .when(issue({ ...forBot, onBehalfOf: true, principalIsPerson: true, allowTokensForPeople: true }))
        .then([
          {
            type: 'ApiTokenIssued',
            data: { tokenId, principalId: 'ci-bot', roles: ['auditor'], expiresAt: null, issuedBy: 'prn-admin', onBehalfOf: true },
          },
        ]);
    });

    it('needs no flag for oneself, and refuses the flag where there is no other principal', () => {
      spec
        .given([])
        .when(issue({ principalId: 'prn-admin', newPrincipal: false }))
        .then([
          {
            type: 'ApiTokenIssued',
            data: { tokenId, principalId: 'prn-admin', roles: ['auditor'], expiresAt: null, issuedBy: 'prn-admin', onBehalfOf: false },
          },
        ]);
      spec
        .given([])
        .when(issue({ onBehalfOf: true }))
        .thenThrows(code(AuthErrorCode.InvalidRequest));
    });
  });

  it('upcasts a v1 ApiTokenIssued to v2 with the issuer and the flag unknown (null)', () => {
    const v1 = { tokenId, principalId: 'prn-1', roles: ['auditor'], expiresAt: null };
    expect(authContracts.upcast('ApiTokenIssued', 1, v1)).toEqual({ version: 2, data: { ...v1, issuedBy: null, onBehalfOf: null } });
    expect(authContracts.currentVersion('ApiTokenIssued')).toBe(2);
  });
});
