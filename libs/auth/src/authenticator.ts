import jwt from 'jsonwebtoken';
import { isPrincipalId, isRole, Role } from '@trellis/contracts';
import { intFromEnv } from '@trellis/common';
import { AuthErrorCode, AuthException } from './auth.exception';
import type { Principal } from './principal';
import { ApiTokenRepository } from './tokens/api-token.repository';
import { hashApiToken, looksLikeApiToken } from './tokens/api-token.format';

export interface JwtConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** PEM public key for RS256 / ES256 tokens from an external identity provider. */
  publicKey?: string;
  issuer?: string;
  audience?: string;
  /** Longest accepted lifetime (`exp` minus `iat`, or minus now without `iat`), in seconds. */
  maxLifetimeSeconds: number;
  /** Clock difference tolerated for `exp`, `nbf` and an `iat` in the future, in seconds. */
  clockSkewSeconds: number;
}

/** HS256 keys shorter than the hash output can be brute-forced offline from one token (RFC 7518 3.2). */
export const MIN_HS256_SECRET_BYTES = 32;

/** The JWT settings; refuses to start with a weak HS256 secret rather than accept forgeable tokens. */
export function jwtConfigFromEnv(env: NodeJS.ProcessEnv = process.env): JwtConfig {
  const secret = env.TRELLIS_JWT_SECRET || undefined;
  if (secret !== undefined && !env.TRELLIS_JWT_PUBLIC_KEY && Buffer.byteLength(secret, 'utf8') < MIN_HS256_SECRET_BYTES) {
    throw new Error(
      `TRELLIS_JWT_SECRET must be at least ${MIN_HS256_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 48\`); a shorter HS256 secret can be guessed from one token`,
    );
  }
  return {
    secret,
    publicKey: env.TRELLIS_JWT_PUBLIC_KEY || undefined,
    issuer: env.TRELLIS_JWT_ISSUER || undefined,
    audience: env.TRELLIS_JWT_AUDIENCE || undefined,
    maxLifetimeSeconds: intFromEnv(env, 'TRELLIS_JWT_MAX_LIFETIME_SECONDS', 24 * 3600),
    clockSkewSeconds: intFromEnv(env, 'TRELLIS_JWT_CLOCK_SKEW_SECONDS', 60, 0),
  };
}

/** Turns an Authorization header into a Principal: `Bearer trl_…` API tokens, or `Bearer <JWT>`. */
export class Authenticator {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly jwtConfig: JwtConfig,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw new AuthException(AuthErrorCode.MissingCredentials, 'an Authorization: Bearer <token> header is required');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new AuthException(AuthErrorCode.InvalidCredentials, 'the Authorization header must be "Bearer <token>"');
    const credential = match[1];
    return credential.startsWith('trl_') ? this.fromApiToken(credential) : this.fromJwt(credential);
  }

  private async fromApiToken(token: string): Promise<Principal> {
    const record = looksLikeApiToken(token) ? await this.tokens.findUsable(hashApiToken(token)) : undefined;
    if (!record) throw new AuthException(AuthErrorCode.InvalidCredentials, 'unknown, revoked or expired API token');
    return { id: record.principalId, roles: record.roles, via: 'api-token', tokenId: record.tokenId };
  }

  private fromJwt(token: string): Principal {
    const key = this.jwtConfig.publicKey ?? this.jwtConfig.secret;
    if (!key) throw new AuthException(AuthErrorCode.InvalidCredentials, 'JWT bearer tokens are not enabled on this server');
    let claims: jwt.JwtPayload;
    try {
      const verified = jwt.verify(token, key, {
        algorithms: this.jwtConfig.publicKey ? ['RS256', 'ES256'] : ['HS256'],
        issuer: this.jwtConfig.issuer,
        audience: this.jwtConfig.audience,
        clockTolerance: this.jwtConfig.clockSkewSeconds,
        clockTimestamp: Math.floor(this.now() / 1000),
      });
      if (typeof verified === 'string') throw new Error('payload is not an object');
      claims = verified;
    } catch (err) {
      throw new AuthException(AuthErrorCode.InvalidCredentials, `invalid JWT: ${(err as Error).message}`);
    }
    this.checkLifetime(claims);
    // The id enters every event this caller writes, and the hash chain covers it as stored: only
    // a string of the principal-id shape, never a number, an object or an e-mail address.
    if (!isPrincipalId(claims.sub)) {
      throw new AuthException(
        AuthErrorCode.InvalidCredentials,
        'invalid JWT: sub must be a pseudonymous id (a string of letters, digits and . _ : | -, at most 100 characters; not an e-mail address)',
      );
    }
    const roles = Array.isArray(claims.roles) ? (claims.roles.filter((r) => isRole(r) && r !== 'service') as Role[]) : [];
    return { id: claims.sub, roles, via: 'jwt' };
  }

  /** A token without `exp` would be valid forever; one that lives too long is nearly as bad. */
  private checkLifetime(claims: jwt.JwtPayload): void {
    const now = Math.floor(this.now() / 1000);
    const { maxLifetimeSeconds: max, clockSkewSeconds: skew } = this.jwtConfig;
    if (typeof claims.exp !== 'number') throw new AuthException(AuthErrorCode.InvalidCredentials, 'invalid JWT: an exp claim is required');
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + skew)) {
      throw new AuthException(AuthErrorCode.InvalidCredentials, 'invalid JWT: iat is in the future');
    }
    const issued = typeof claims.iat === 'number' ? claims.iat : now;
    if (claims.exp - issued > max + skew) {
      throw new AuthException(
        AuthErrorCode.InvalidCredentials,
        `invalid JWT: it lives longer than the ${max} s this server accepts (TRELLIS_JWT_MAX_LIFETIME_SECONDS)`,
      );
    }
  }
}
