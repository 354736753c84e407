import jwt from 'jsonwebtoken';
import { isRole, Role } from '@trellis/contracts';
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
}

export function jwtConfigFromEnv(env: NodeJS.ProcessEnv = process.env): JwtConfig {
  return {
    secret: env.TRELLIS_JWT_SECRET || undefined,
    publicKey: env.TRELLIS_JWT_PUBLIC_KEY || undefined,
    issuer: env.TRELLIS_JWT_ISSUER || undefined,
    audience: env.TRELLIS_JWT_AUDIENCE || undefined,
  };
}

/** Turns an Authorization header into a Principal: `Bearer trl_…` API tokens, or `Bearer <JWT>`. */
export class Authenticator {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly jwtConfig: JwtConfig,
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
      });
      if (typeof verified === 'string') throw new Error('payload is not an object');
      claims = verified;
    } catch (err) {
      throw new AuthException(AuthErrorCode.InvalidCredentials, `invalid JWT: ${(err as Error).message}`);
    }
    if (!claims.sub) throw new AuthException(AuthErrorCode.InvalidCredentials, 'invalid JWT: no sub claim');
    const roles = Array.isArray(claims.roles) ? (claims.roles.filter((r) => isRole(r) && r !== 'service') as Role[]) : [];
    return { id: claims.sub, roles, via: 'jwt' };
  }
}
