import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { type Actor, describeIssues, isoDateTime, issueField, type Role, safeText } from '@trellis/contracts';
import { PRINCIPAL_ID_PATTERN } from '@trellis/contracts';
import { CLOCK, Clock, withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { ApiTokenRepository, ApiTokenRecord } from './api-token.repository';
import { apiTokenDecider, decideApiToken, initialApiTokenState, PERSON_ROLES } from './api-token.decider';
import { AUTH_LOG, authContracts } from './api-token.events';
import { generateApiToken, hashApiToken } from './api-token.format';
import { parseDisplayName, principalRefs, writeDisplayName } from '../principals/principal-directory';

export const IssueApiTokenRequest = z
  .object({
    label: safeText({ max: 100 }),
    roles: z
      .array(safeText({ max: 40 }))
      .min(1)
      .max(20),
    /** Reuse an existing pseudonymous principal (a second token for the same person or bot). */
    principalId: z.string().regex(PRINCIPAL_ID_PATTERN, 'letters, digits and . _ : | - only, at most 100').optional(),
    /** Required to issue a token under another principal's id (the token then acts as them); recorded in the event. */
    onBehalfOf: z.boolean().optional(),
    expiresAt: isoDateTime().optional(),
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
      throw new AuthException(AuthErrorCode.InvalidRequest, `invalid token request: ${describeIssues(parsed.error.issues)}`, [
        ...new Set(parsed.error.issues.map(issueField)),
      ]);
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
      issuerId: actor.id,
      newPrincipal: req.principalId === undefined,
      onBehalfOf: req.onBehalfOf === true,
      principalIsPerson: req.principalId !== undefined && req.principalId !== actor.id && (await this.isPerson(req.principalId)),
      allowTokensForPeople: process.env.TRELLIS_ALLOW_TOKENS_FOR_PEOPLE === '1',
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

  /** A principal belongs to a person when it has a display name or was ever issued a person role (PERSON_ROLES). */
  private async isPerson(principalId: string): Promise<boolean> {
    if ((await principalRefs(this.dataSource, [principalId])).get(principalId)?.displayName) return true;
    return (await this.tokens.rolesEverIssued(principalId)).some((r) => PERSON_ROLES.includes(r));
  }

  async revoke(tokenId: string, actor: Actor): Promise<void> {
    if (!z.string().uuid().safeParse(tokenId).success) {
      throw new AuthException(AuthErrorCode.InvalidRequest, 'token id must be a UUID', ['params.tokenId']);
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
