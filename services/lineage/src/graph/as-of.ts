import { isIsoDateTime } from '@trellis/contracts';
import { LineageErrorCode, LineageException } from '../lineage.exception';

/** A moment argument (`asOf`, `at`): left out arrives as undefined, an explicit null as null; both mean `now`. */
export function asOfDate(value: string | null | undefined, field = 'asOf', now: Date = new Date()): Date {
  if (value === null || value === undefined) return now;
  if (!isIsoDateTime(value))
    throw new LineageException(LineageErrorCode.InvalidQuery, `${field} must be an ISO 8601 date-time with offset, e.g. 2026-12-01T12:00:00Z`, [field]);
  return new Date(value);
}

/** One "now" per GraphQL request, kept on its context: every field of one answer is read as of the same moment. */
export function requestNow(context: { lineageNow?: Date }): Date {
  context.lineageNow ??= new Date();
  return context.lineageNow;
}
