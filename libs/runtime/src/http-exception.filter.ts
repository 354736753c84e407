import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { asDomainException, HTTP_STATUS } from '@trellis/errors';
import { DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './database-unavailable';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
  setHeader?(name: string, value: string): void;
}

/** PostgreSQL's codes for a statement, lock or idle-transaction timeout (a server that is away: database-unavailable.ts). */
const DATABASE_BUSY_CODES = new Set(['57014', '55P03', '25P03']);

/**
 * The database did not answer in time (a statement or lock timeout, no pool connection within
 * the acquisition timeout): the request may succeed later, so 503, not 500.
 */
export function isDatabaseBusy(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && DATABASE_BUSY_CODES.has(e.code)) return true;
  // pg-pool's acquisition timeout (connectionTimeoutMillis) carries no code, only this message.
  if (typeof e.message === 'string' && /timeout exceeded when trying to connect/.test(e.message)) return true;
  return e.driverError !== undefined && e.driverError !== err && isDatabaseBusy(e.driverError);
}

/** Seconds a client is asked to wait before retrying a request the server was too busy for. */
const DATABASE_BUSY_RETRY_AFTER_SECONDS = 2;

/** The one error body of the REST API (the OpenAPI `Error` schema describes it). */
export interface ErrorBody {
  /** The error code, e.g. `ASSET_REJECTED`. */
  error: string;
  /** The most specific machine-readable reason, e.g. `TRUNCATED`; the code where there is none finer. */
  reason: string;
  /** For people; never echoes personal data. */
  message: string;
  /** Offending input fields, as dotted paths. */
  fields?: string[];
}

export function errorBody(error: string, message: string, reason = error, fields?: string[]): ErrorBody {
  return { error, reason, message, ...(fields?.length ? { fields } : {}) };
}

/**
 * Express's own 400s quote the input (a body that is not JSON: a piece of it; a path parameter
 * that is not UTF-8: all of it), which may be personal data or control characters: a fixed
 * message instead.
 */
function expressBadRequest(message: string): string | undefined {
  if (message.startsWith('Failed to decode param')) return 'a path parameter is not valid percent-encoded UTF-8';
  if (/\bJSON\b/.test(message)) return 'the body is not valid JSON';
  return undefined;
}

/** Maps domain errors to HTTP statuses once, for every controller. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType<string>() !== 'http') throw err;
    const res = host.switchToHttp().getResponse<JsonResponse>();
    const mapped = asDomainException(err);
    if (mapped) {
      const status = HTTP_STATUS[mapped.errorClass];
      if (mapped.retryAfterSeconds !== undefined) res.setHeader?.('Retry-After', String(mapped.retryAfterSeconds));
      // Unavailable is load or an outage, not a fault: the client is told when to come back.
      if (status >= 500 && mapped.errorClass !== 'unavailable') this.logger.error(mapped.message);
      res.status(status).json(errorBody(mapped.code, mapped.message, mapped.reason, mapped.fields));
      return;
    }
    if (err instanceof HttpException) {
      // Nest's own errors: unknown route (404), malformed JSON body (400), ...
      const body = err.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
      const code = 'HTTP_' + err.getStatus();
      const text = Array.isArray(message) ? message.join('; ') : String(message);
      res.status(err.getStatus()).json(errorBody(code, err.getStatus() === 400 ? (expressBadRequest(text) ?? text) : text));
      return;
    }
    if ((err as { type?: unknown })?.type === 'entity.too.large') {
      // The JSON body parser's limit (100 KB): the client can fix this, so not a 500.
      res
        .status(413)
        .json(
          errorBody(
            'PAYLOAD_TOO_LARGE',
            'an application/json request body is limited to 100 KB; send files as application/octet-stream where the endpoint accepts it',
          ),
        );
      return;
    }
    if (isDatabaseUnavailable(err)) {
      // The database is away (restarting after a crash): the code only, never the driver's message.
      this.logger.warn(`database unavailable: ${String((err as { code?: unknown }).code ?? 'connection lost')}`);
      res.setHeader?.('Retry-After', String(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS));
      res.status(503).json(errorBody('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later'));
      return;
    }
    if (isDatabaseBusy(err)) {
      // The code only: a driver message may quote a statement's parameters.
      this.logger.warn(`database busy: ${String((err as { code?: unknown }).code ?? 'pool acquisition timeout')}`);
      res.setHeader?.('Retry-After', String(DATABASE_BUSY_RETRY_AFTER_SECONDS));
      res.status(503).json(errorBody('DATABASE_BUSY', 'the database did not answer in time; retry later'));
      return;
    }
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(500).json(errorBody('INTERNAL', 'internal error'));
  }
}
