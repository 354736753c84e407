import { z } from 'zod';
import { EventContractRegistry, GRANTABLE_ROLES } from '@trellis/contracts';

export const AUTH_LOG = 'auth';

export const ApiTokenIssuedV1 = z
  .object({
    tokenId: z.string().uuid(),
    principalId: z.string().min(1).max(100),
    roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
    expiresAt: z.string().datetime().nullable(),
  })
  .strict();
export const ApiTokenRevokedV1 = z.object({ tokenId: z.string().uuid() }).strict();

export type ApiTokenIssued = { type: 'ApiTokenIssued'; data: z.infer<typeof ApiTokenIssuedV1> };
export type ApiTokenRevoked = { type: 'ApiTokenRevoked'; data: z.infer<typeof ApiTokenRevokedV1> };
export type ApiTokenEvent = ApiTokenIssued | ApiTokenRevoked;

/** Token events never carry the token, its hash or its free-text label. */
export const authContracts = new EventContractRegistry<never>()
  .register({ type: 'ApiTokenIssued', version: 1, schema: ApiTokenIssuedV1 })
  .register({ type: 'ApiTokenRevoked', version: 1, schema: ApiTokenRevokedV1 });
