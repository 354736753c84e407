/**
 * Errors that mean the database is away rather than that the request is wrong: the server
 * refuses connections (restarting), was shut down or crashed under a session (57P01 admin
 * shutdown, 57P02 crash shutdown, 57P03 cannot connect now), or the connection broke. The
 * same request may succeed once the server is back, so the transports answer 503, not 500.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const CONNECTION_MESSAGES = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|terminating connection due to/;

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)) return true;
  // TypeORM releases a query runner by itself only when its connection fails (the pg client's
  // 'error' event); the next statement of that transaction then fails with this.
  if ((e as { name?: unknown }).name === 'QueryRunnerAlreadyReleasedError') return true;
  // TypeORM wraps the driver's error; Node reports a refused connection to several addresses as an AggregateError.
  if (e.driverError !== undefined && e.driverError !== err && isDatabaseUnavailable(e.driverError, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isDatabaseUnavailable(inner, depth + 1));
}

/** Seconds a client is asked to wait while the embedded server restarts (it takes one or two). */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 2;
