import { z } from 'zod';
import { EventContractRegistry, GRANTABLE_ROLES, PRINCIPAL_ID_PATTERN } from '@trellis/contracts';

export const AUTH_LOG = 'auth';

export const ApiTokenIssuedV1 = z
  .object({
    tokenId: z.string().uuid(),
    principalId: z.string().min(1).max(100),
    roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
    expiresAt: z.string().datetime().nullable(),
  })
  .strict();
/**
 * v2 records who issued the token (`issuedBy`, also the envelope's actor) and whether it was
 * issued for another principal (`onBehalfOf`): the token's holder then writes events under
 * `principalId`, and the log shows who made that possible. v1 events read as v2 with both null
 * (not recorded then; the envelope's actor is the issuer).
 */
export const ApiTokenIssuedV2 = z
  .object({
    tokenId: z.string().uuid(),
    principalId: z.string().regex(PRINCIPAL_ID_PATTERN),
    roles: z.array(z.enum(GRANTABLE_ROLES)).min(1),
    expiresAt: z.string().datetime().nullable(),
    issuedBy: z.string().regex(PRINCIPAL_ID_PATTERN).nullable(),
    onBehalfOf: z.boolean().nullable(),
  })
  .strict();
export const ApiTokenRevokedV1 = z.object({ tokenId: z.string().uuid() }).strict();

export type ApiTokenIssued = { type: 'ApiTokenIssued'; data: z.infer<typeof ApiTokenIssuedV2> };
export type ApiTokenRevoked = { type: 'ApiTokenRevoked'; data: z.infer<typeof ApiTokenRevokedV1> };
export type ApiTokenEvent = ApiTokenIssued | ApiTokenRevoked;

/** Token events never carry the token, its hash or its free-text label. */
export const authContracts = new EventContractRegistry<never>()
  .register({ type: 'ApiTokenIssued', version: 1, schema: ApiTokenIssuedV1 })
  .register({ type: 'ApiTokenIssued', version: 2, schema: ApiTokenIssuedV2 })
  .registerUpcaster('ApiTokenIssued', 1, (d) => ({ ...(d as z.infer<typeof ApiTokenIssuedV1>), issuedBy: null, onBehalfOf: null }))
  .register({ type: 'ApiTokenRevoked', version: 1, schema: ApiTokenRevokedV1 });
