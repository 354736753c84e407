import { createHash, randomBytes } from 'node:crypto';

/** API tokens look like `trl_<43 base64url chars>` (256 random bits); only their SHA-256 is stored. */
export const API_TOKEN_PREFIX = 'trl_';

export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeApiToken(token: string): boolean {
  return token.startsWith(API_TOKEN_PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(token.slice(API_TOKEN_PREFIX.length));
}
