import jwt from 'jsonwebtoken';
import { AuthErrorCode, AuthException } from './auth.exception';
import { Authenticator, JwtConfig, jwtConfigFromEnv } from './authenticator';
import type { ApiTokenRepository } from './tokens/api-token.repository';

const SECRET = 'unit-test-secret-of-more-than-thirty-two-bytes';
const NOW = Date.parse('2026-12-03T08:00:00Z');
const nowS = NOW / 1000;
const config: JwtConfig = { secret: SECRET, maxLifetimeSeconds: 3600, clockSkewSeconds: 60 };
const noTokens = { findUsable: async () => undefined } as unknown as ApiTokenRepository;
const authenticator = new Authenticator(noTokens, config, () => NOW);

// sign() keeps an iat given in the claims, and adds the real clock's unless told not to.
const bearer = (claims: object) => `Bearer ${jwt.sign(claims, SECRET, { algorithm: 'HS256', noTimestamp: !('iat' in claims) })}`;

async function refusal(claims: object): Promise<string> {
  const err = await authenticator.authenticate(bearer(claims)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuthException);
  expect((err as AuthException).code).toBe(AuthErrorCode.InvalidCredentials);
  return (err as AuthException).message;
}

describe(Authenticator.name, () => {
  describe('authenticate (JWT policy, issue 11 item 8)', () => {
    it('accepts a token within the lifetime, with a pseudonymous string sub', async () => {
      const principal = await authenticator.authenticate(bearer({ sub: 'auth0|5f7c8ec7', roles: ['engineer'], iat: nowS - 10, exp: nowS + 3000 }));
      expect(principal).toEqual({ id: 'auth0|5f7c8ec7', roles: ['engineer'], via: 'jwt' });
    });

    it('refuses a token without exp, which would be valid forever', async () => {
      expect(await refusal({ sub: 'prn-1', iat: nowS })).toMatch(/exp claim is required/);
    });

    it('refuses a lifetime beyond the configured maximum, with or without iat', async () => {
      expect(await refusal({ sub: 'prn-1', iat: nowS, exp: nowS + 100 * 365 * 86400 })).toMatch(/lives longer than the 3600 s/);
      expect(await refusal({ sub: 'prn-1', exp: nowS + 3600 + 61 })).toMatch(/lives longer/);
    });

    it('refuses an iat in the future beyond the clock skew, and allows one within it', async () => {
      expect(await refusal({ sub: 'prn-1', iat: nowS + 120, exp: nowS + 600 })).toMatch(/iat is in the future/);
      await expect(authenticator.authenticate(bearer({ sub: 'prn-1', iat: nowS + 30, exp: nowS + 600 }))).resolves.toMatchObject({ id: 'prn-1' });
    });

    it('refuses an expired token, past the skew', async () => {
      expect(await refusal({ sub: 'prn-1', iat: nowS - 600, exp: nowS - 61 })).toMatch(/invalid JWT: jwt expired/);
    });

    // A numeric sub was stored as '12345' but hashed as 12345: a false tamper alarm (item 2).
    it.each([[12345], [{ id: 'x' }], ['jane.doe@example.org'], ['has space'], ['ctrl\u0007'], ['x'.repeat(101)], ['']])('refuses the sub %j', async (sub) => {
      expect(await refusal({ sub, iat: nowS, exp: nowS + 60 })).toMatch(/sub must be a pseudonymous id/);
    });
  });
});

describe('jwtConfigFromEnv', () => {
  it('refuses to start with an HS256 secret shorter than 32 bytes', () => {
    expect(() => jwtConfigFromEnv({ TRELLIS_JWT_SECRET: 'secret' })).toThrow(/TRELLIS_JWT_SECRET must be at least 32 bytes/);
    expect(jwtConfigFromEnv({ TRELLIS_JWT_SECRET: SECRET }).secret).toBe(SECRET);
  });

  it('defaults to a one-day maximum lifetime and a minute of skew, both configurable', () => {
    expect(jwtConfigFromEnv({})).toMatchObject({ maxLifetimeSeconds: 86400, clockSkewSeconds: 60 });
    expect(jwtConfigFromEnv({ TRELLIS_JWT_MAX_LIFETIME_SECONDS: '900', TRELLIS_JWT_CLOCK_SKEW_SECONDS: '0' })).toMatchObject({
      maxLifetimeSeconds: 900,
      clockSkewSeconds: 0,
    });
    expect(() => jwtConfigFromEnv({ TRELLIS_JWT_MAX_LIFETIME_SECONDS: 'forever' })).toThrow(/TRELLIS_JWT_MAX_LIFETIME_SECONDS must be a positive integer/);
  });
});
