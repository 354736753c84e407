import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '@trellis/auth';
import { PostgresEventStore } from '@trellis/event-store';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { AuditEvent, AuditTrailConnection, ChainVerification, LogHead, toAuditEvent } from './audit.models';
import { AUDIT_TRAIL_DEFAULT_PAGE, AUDIT_TRAIL_MAX_PAGE, AuditTrailQuery } from './audit-trail.query';

const MAX_PAGE = 1000;

/** The tamper-evident event history, read-only, for auditors. */
@Resolver()
export class AuditResolver {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly trail: AuditTrailQuery,
  ) {}

  @Query(() => [LogHead], { description: 'Every event log and its head position.' })
  @Roles('auditor', 'admin')
  eventLogs(): Promise<LogHead[]> {
    return this.store.logs();
  }

  @Query(() => [AuditEvent], { description: 'Events of a log after a position, in log order.' })
  @Roles('auditor', 'admin')
  async eventLog(
    @Args('log') log: string,
    // Nullable with a default (`Int = 0`): as `Int! = 0`, a null variable failed inside graphql-js
    // as an internal error; here an explicit null means the default.
    @Args('after', { type: () => Int, nullable: true, defaultValue: 0 }) afterArg: number | null,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 100 }) firstArg: number | null,
  ): Promise<AuditEvent[]> {
    const after = afterArg ?? 0;
    const first = firstArg ?? 100;
    if (after < 0 || first < 1 || first > MAX_PAGE) {
      throw new LineageException(LineageErrorCode.InvalidQuery, `after must be >= 0 and first between 1 and ${MAX_PAGE}`, [after < 0 ? 'after' : 'first']);
    }
    // As stored (not upcast), so that an auditor can recompute every hash from this answer.
    const events = await this.store.readLog(log, after, first, undefined, true);
    return events.map(toAuditEvent);
  }

  @Query(() => AuditTrailConnection, {
    description:
      'Events of every log, newest first (occurredAt, then log and position, descending), filtered by stream id, actor principal id, event type ' +
      `and occurredAt (from inclusive, to exclusive, ISO 8601); Relay pages of at most ${AUDIT_TRAIL_MAX_PAGE} (default ${AUDIT_TRAIL_DEFAULT_PAGE}).`,
  })
  @Roles('auditor', 'admin')
  auditTrail(
    @Args('stream', { type: () => String, nullable: true }) stream: string | null,
    @Args('actor', { type: () => String, nullable: true, description: 'Principal id of the actor.' }) actor: string | null,
    @Args('type', { type: () => String, nullable: true, description: 'Event type, e.g. AuditorQueried.' }) type: string | null,
    @Args('from', { type: () => String, nullable: true }) from: string | null,
    @Args('to', { type: () => String, nullable: true }) to: string | null,
    @Args('first', { type: () => Int, nullable: true, defaultValue: AUDIT_TRAIL_DEFAULT_PAGE }) first: number | null,
    @Args('after', { type: () => String, nullable: true, description: 'pageInfo.endCursor of the previous page.' }) after: string | null,
  ): Promise<AuditTrailConnection> {
    return this.trail.page({ stream, actor, type, from, to }, { first, after });
  }

  @Query(() => ChainVerification, {
    description: 'Recomputes the hash chain of a log and reports every break (NOT_FOUND for an unknown log).',
    deprecationReason: 'verifyAuditChain answers the same; this name stays for existing clients.',
  })
  @Roles('auditor', 'admin')
  verifyEventLog(@Args('log') log: string): Promise<ChainVerification> {
    return this.verify(log);
  }

  @Query(() => ChainVerification, {
    description: "Recomputes a log's hash chain: ok, or brokenAt, the first position where it breaks, and why (NOT_FOUND for an unknown log).",
  })
  @Roles('auditor', 'admin')
  verifyAuditChain(@Args('log') log: string): Promise<ChainVerification> {
    return this.verify(log);
  }

  private async verify(log: string): Promise<ChainVerification> {
    const r = await this.store.verify(log);
    return r.ok
      ? { log, ok: true, checked: r.checked, lastPosition: r.lastPosition, broken: [], brokenCount: 0 }
      : { log, ok: false, checked: r.checked, brokenAt: r.position, reason: r.reason, broken: r.broken, brokenCount: r.brokenCount };
  }
}
