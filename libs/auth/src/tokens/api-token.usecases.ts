import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Actor, Role } from '@trellis/contracts';
import { CLOCK, Clock, withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { ApiTokenRepository, ApiTokenRecord } from './api-token.repository';
import { apiTokenDecider, decideApiToken, initialApiTokenState } from './api-token.decider';
import { AUTH_LOG, authContracts } from './api-token.events';
import { generateApiToken, hashApiToken } from './api-token.format';
import { parseDisplayName, writeDisplayName } from '../principals/principal-directory';

export const IssueApiTokenRequest = z
  .object({
    label: z.string().trim().min(1).max(100),
    roles: z.array(z.string()).min(1),
    /** Reuse an existing pseudonymous principal (a second token for the same person or bot). */
    principalId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - only, at most 100')
      .optional(),
    expiresAt: z.string().datetime().optional(),
    /** The principal's display name, kept out of the event (see PrincipalDirectory); checked by parseDisplayName. */
    displayName: z.unknown().optional(),
  })
  .strict();
export type IssueApiTokenRequest = z.infer<typeof IssueApiTokenRequest>;

export interface IssuedApiToken {
  tokenId: string;
  /** Shown once; only its hash is kept. */
  token: string;
  principalId: string;
  roles: Role[];
  expiresAt: string | null;
}

const streamOf = (tokenId: string) => `api-token-${tokenId}`;

@Injectable()
export class ApiTokenUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly tokens: ApiTokenRepository,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = () => new Date(),
  ) {}

  async issue(input: unknown, actor: Actor): Promise<IssuedApiToken> {
    const parsed = IssueApiTokenRequest.safeParse(input);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      throw new AuthException(AuthErrorCode.InvalidRequest, `invalid token request: ${detail}`);
    }
    const req = parsed.data;
    const displayName = req.displayName === undefined ? undefined : parseDisplayName(req.displayName);
    const tokenId = uuidv7();
    const [event] = decideApiToken(initialApiTokenState, {
      type: 'IssueApiToken',
      tokenId,
      principalId: req.principalId ?? `prn-${uuidv7()}`,
      roles: req.roles,
      expiresAt: req.expiresAt ? new Date(req.expiresAt) : null,
      now: this.clock(),
    });
    if (event.type !== 'ApiTokenIssued') throw new Error('unexpected decision');
    const token = generateApiToken();
    await withTransaction(this.dataSource, async (tx) => {
      await this.store.append(AUTH_LOG, streamOf(tokenId), [event], { actor }, { expectedVersion: 'no_stream', queryRunner: tx });
      await this.tokens.insert(tx, {
        tokenId,
        tokenHash: hashApiToken(token),
        principalId: event.data.principalId,
        label: req.label,
        roles: event.data.roles as Role[],
        expiresAt: event.data.expiresAt ? new Date(event.data.expiresAt) : null,
      });
      if (displayName !== undefined) await writeDisplayName(tx, event.data.principalId, displayName);
    });
    return { tokenId, token, principalId: event.data.principalId, roles: event.data.roles as Role[], expiresAt: event.data.expiresAt };
  }

  async revoke(tokenId: string, actor: Actor): Promise<void> {
    if (!z.string().uuid().safeParse(tokenId).success) {
      throw new AuthException(AuthErrorCode.InvalidRequest, `token id must be a UUID, got ${JSON.stringify(tokenId)}`);
    }
    await withTransaction(this.dataSource, (tx) =>
      handleCommand(
        this.store,
        apiTokenDecider,
        { log: AUTH_LOG, streamId: streamOf(tokenId), contracts: authContracts },
        { type: 'RevokeApiToken', tokenId },
        {
          context: { actor },
          queryRunner: tx,
          afterAppend: () => this.tokens.markRevoked(tx, tokenId),
        },
      ),
    );
  }

  list(): Promise<ApiTokenRecord[]> {
    return this.tokens.list();
  }
}
