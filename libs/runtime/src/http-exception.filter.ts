import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { asDomainException, HTTP_STATUS } from '@trellis/errors';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

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
      if (status >= 500) this.logger.error(mapped.message);
      res.status(status).json(errorBody(mapped.code, mapped.message, mapped.reason, mapped.fields));
      return;
    }
    if (err instanceof HttpException) {
      // Nest's own errors: unknown route (404), malformed JSON body (400), ...
      const body = err.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
      const code = 'HTTP_' + err.getStatus();
      res.status(err.getStatus()).json(errorBody(code, Array.isArray(message) ? message.join('; ') : String(message)));
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
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(500).json(errorBody('INTERNAL', 'internal error'));
  }
}
