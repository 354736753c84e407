import { isIsoDateTime } from '@trellis/contracts';
import { LineageErrorCode, LineageException } from '../lineage.exception';

/** A moment argument (`asOf`, `at`): left out arrives as undefined, an explicit null as null; both mean now. */
export function asOfDate(value: string | null | undefined, field = 'asOf'): Date {
  if (value === null || value === undefined) return new Date();
  if (!isIsoDateTime(value))
    throw new LineageException(LineageErrorCode.InvalidQuery, `${field} must be an ISO 8601 date-time with offset, e.g. 2026-12-01T12:00:00Z`, [field]);
  return new Date(value);
}
