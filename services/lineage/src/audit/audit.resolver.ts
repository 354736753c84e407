import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '@trellis/auth';
import { canonicalJson } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { AuditEvent, ChainVerification, LogHead } from './audit.models';

const MAX_PAGE = 1000;

/** The tamper-evident event history, read-only, for auditors. */
@Resolver()
export class AuditResolver {
  constructor(private readonly store: PostgresEventStore) {}

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
    return events.map((e) => ({
      ...e,
      actorId: e.actor.id,
      actorRole: e.actor.role,
      data: canonicalJson(e.data),
    }));
  }

  @Query(() => ChainVerification, { description: 'Recomputes the hash chain of a log and reports every break (NOT_FOUND for an unknown log).' })
  @Roles('auditor', 'admin')
  async verifyEventLog(@Args('log') log: string): Promise<ChainVerification> {
    const r = await this.store.verify(log);
    return r.ok
      ? { log, ok: true, checked: r.checked, lastPosition: r.lastPosition, broken: [], brokenCount: 0 }
      : { log, ok: false, checked: r.checked, brokenAt: r.position, reason: r.reason, broken: r.broken, brokenCount: r.brokenCount };
  }
}
