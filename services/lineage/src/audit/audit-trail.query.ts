import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { EVENT_COLUMNS, EventRow, rowToEnvelope } from '@trellis/event-store';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { AuditTrailConnection, toAuditEvent } from './audit.models';
import { ALL_LOGS, AuditTrailIndexer } from './audit-trail.indexer';

export const AUDIT_TRAIL_DEFAULT_PAGE = 100;
export const AUDIT_TRAIL_MAX_PAGE = 1000;

export interface AuditTrailFilter {
  stream?: string | null;
  actor?: string | null;
  type?: string | null;
  /** ISO 8601 date-time, inclusive. */
  from?: string | null;
  /** ISO 8601 date-time, exclusive. */
  to?: string | null;
}

export interface AuditTrailPage {
  first?: number | null;
  after?: string | null;
}

/** Where a page ends: the sort key of its last event, exactly as PostgreSQL holds it (microseconds). */
interface Cursor {
  at: string;
  log: string;
  position: number;
}

/** A timestamptz exactly as PostgreSQL holds it (microseconds), in UTC: a cursor's sort key. */
const EXACT_AT = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const EXACT_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const CursorShape = z.tuple([z.string().regex(EXACT_UTC), z.string().min(1).max(63), z.number().int().positive()]);
const DateTime = z.string().datetime({ offset: true });
/** Longer than any stream id, principal id or event type the store accepts: such a filter cannot match. */
const MAX_FILTER_TEXT = 200;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.log, c.position])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const r = CursorShape.safeParse(parsed);
  if (!r.success) throw invalid('after is not a cursor this query returned', 'after', 'INVALID_CURSOR');
  return { at: r.data[0], log: r.data[1], position: r.data[2] };
}

function invalid(message: string, field: string, reason?: string): LineageException {
  return new LineageException(LineageErrorCode.InvalidQuery, message, [field], reason);
}

/**
 * The audit trail: events of every log in trellis_events, newest first, filtered by stream,
 * actor, type and time. Ordered by occurredAt, then log and position (descending), a total order
 * across logs, paged by keyset on that order so that a page costs the same however deep it is
 * (the indexes are on lineage_audit_trail, kept by AuditTrailIndexer; migration
 * AuditTrailOffTheAppendPath). Events are returned as stored, like eventLog.
 */
@Injectable()
export class AuditTrailQuery {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indexer: AuditTrailIndexer,
  ) {}

  async page(filter: AuditTrailFilter, page: AuditTrailPage): Promise<AuditTrailConnection> {
    const first = page.first ?? AUDIT_TRAIL_DEFAULT_PAGE;
    if (!Number.isInteger(first) || first < 1 || first > AUDIT_TRAIL_MAX_PAGE) {
      throw invalid(`first must be between 1 and ${AUDIT_TRAIL_MAX_PAGE} (ask for the next page with after: pageInfo.endCursor)`, 'first', 'PAGE_TOO_LARGE');
    }
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    for (const [field, column] of [
      ['stream', 'stream_id'],
      ['actor', 'actor_id'],
      ['type', 'type'],
    ] as const) {
      const value = filter[field];
      if (value === null || value === undefined) continue;
      if (value.length === 0 || value.length > MAX_FILTER_TEXT) throw invalid(`${field} must be 1 to ${MAX_FILTER_TEXT} characters`, field);
      add((p) => `${column} = ${p}`, value);
    }
    const from = this.time(filter, 'from');
    const to = this.time(filter, 'to');
    if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to))
      throw invalid('from must be before to (from is inclusive, to exclusive)', 'from');
    if (from !== undefined) add((p) => `occurred_at >= ${p}::timestamptz`, from);
    if (to !== undefined) add((p) => `occurred_at < ${p}::timestamptz`, to);
    if (page.after !== null && page.after !== undefined) {
      const c = decodeCursor(page.after);
      params.push(c.at, c.log, c.position);
      const n = params.length;
      where.push(`(occurred_at, log, position) < ($${n - 2}::timestamptz, $${n - 1}, $${n}::bigint)`);
    }
    params.push(first + 1);
    const limit = `$${params.length}`;
    const filtered = where.length ? `WHERE ${where.join(' AND ')}` : '';
    let rows: (EventRow & { at_exact: string })[];
    if (filter.stream) {
      // A stream is found per log through (log, stream_id, stream_version), once per log.
      rows = await this.dataSource.query(
        `SELECT ${EVENT_COLUMNS}, ${EXACT_AT('occurred_at')} AS at_exact
           FROM trellis_events WHERE ${[...where, `log IN (${ALL_LOGS})`].join(' AND ')}
          ORDER BY occurred_at DESC, log DESC, position DESC
          LIMIT ${limit}`,
        params,
      );
    } else {
      // Otherwise the page is found in the trail's copy of the sort and filter columns, once it
      // holds every event committed before this query, and the events are read by their keys.
      await this.indexer.catchUp();
      rows = await this.dataSource.query(
        `SELECT ${EVENT_COLUMNS}, ${EXACT_AT('page.trail_at')} AS at_exact
           FROM (SELECT log, position, occurred_at AS trail_at FROM lineage_audit_trail ${filtered}
                  ORDER BY occurred_at DESC, log DESC, position DESC LIMIT ${limit}) page
           JOIN trellis_events USING (log, position)
          ORDER BY page.trail_at DESC, log DESC, position DESC`,
        params,
      );
    }
    const edges = rows.slice(0, first).map((r) => ({
      cursor: encodeCursor({ at: r.at_exact, log: r.log, position: Number(r.position) }),
      node: toAuditEvent(rowToEnvelope(r)),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  /** The date-time as given (PostgreSQL keeps its microseconds), once it is known to be one. */
  private time(filter: AuditTrailFilter, field: 'from' | 'to'): string | undefined {
    const value = filter[field];
    if (value === null || value === undefined) return undefined;
    if (!DateTime.safeParse(value).success) throw invalid(`${field} must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T00:00:00Z`, field);
    return value;
  }
}
