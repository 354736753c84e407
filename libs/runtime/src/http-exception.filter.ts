import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { asDomainException, HTTP_STATUS } from '@trellis/errors';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
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
      res.status(status).json({ error: mapped.code, message: mapped.message, ...(mapped.fields?.length ? { fields: mapped.fields } : {}) });
      return;
    }
    if (err instanceof HttpException) {
      // Nest's own errors: unknown route (404), malformed JSON body (400), ...
      const body = err.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
      res.status(err.getStatus()).json({ error: 'HTTP_' + err.getStatus(), message: Array.isArray(message) ? message.join('; ') : String(message) });
      return;
    }
    if ((err as { type?: unknown })?.type === 'entity.too.large') {
      // The JSON body parser's limit (100 KB): the client can fix this, so not a 500.
      res.status(413).json({
        error: 'PAYLOAD_TOO_LARGE',
        message: 'an application/json request body is limited to 100 KB; send files as application/octet-stream where the endpoint accepts it',
      });
      return;
    }
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(500).json({ error: 'INTERNAL', message: 'internal error' });
  }
}
