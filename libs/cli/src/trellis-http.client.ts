import { CliRefusedError } from './cli-command';

/** No answer at all: the platform is not running, or not at that address (a failure, exit 1; callers that retry can tell it by its class). */
export class PlatformUnreachableError extends Error {}

/** The REST API of a running platform, as the CLI uses it (TRELLIS_URL, TRELLIS_TOKEN). */
export class TrellisHttpClient {
  constructor(
    readonly baseUrl: string = process.env.TRELLIS_URL || 'http://127.0.0.1:3000',
    private readonly token: string | undefined = process.env.TRELLIS_TOKEN,
    /**
     * How long, in all, one request waits out 503 answers that carry Retry-After (the platform
     * was too busy and did nothing, e.g. UPLOADS_BUSY); past it the 503 is the answer.
     */
    private readonly busyBudgetMs = 10 * 60_000,
  ) {}

  /**
   * One request: a FormData body goes as multipart, a Buffer as application/octet-stream, any
   * other value as JSON. Returns the status and the raw text.
   */
  async send(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: FormData | Buffer | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (Buffer.isBuffer(body)) {
      headers['content-type'] = 'application/octet-stream';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const deadline = Date.now() + this.busyBudgetMs;
    for (;;) {
      let res: Response;
      try {
        // A FormData or Buffer body can be sent again as it is.
        res = await fetch(new URL(path, this.baseUrl), { method, headers, body: payload });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new PlatformUnreachableError(
          `cannot reach the platform at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? set TRELLIS_URL`,
        );
      }
      const text = await res.text();
      const waitMs = res.status === 503 ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      if (waitMs === undefined || Date.now() + waitMs > deadline) return { status: res.status, text };
      // Up to half as long again, so that the requests refused together do not return together.
      await new Promise((r) => setTimeout(r, waitMs * (1 + Math.random() / 2)));
    }
  }

  /**
   * `send`, with the body parsed as JSON when it is, and 401/403 turned into a refusal that
   * says what to do about it (exit code 3), whichever command asked.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers read the JSON fields the OpenAPI document gives
  async request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, body);
    const parsed = parseBody(res.text);
    const refusal = credentialsRefusal(res.status, `${method} ${path}`, parsed);
    if (refusal) throw refusal;
    return { status: res.status, body: parsed as T };
  }
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds; undefined when absent or malformed. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text for the message.
    return text;
  }
}

function credentialsRefusal(status: number, action: string | undefined, body: unknown): CliRefusedError | undefined {
  if (status === 401)
    return new CliRefusedError('the platform refused the credentials (401): set TRELLIS_TOKEN to a valid API token (npm run token -- create ...)');
  if (status === 403) return new CliRefusedError(`the token lacks a role${action ? ` for ${action}` : ''} (403): ${errorText(body).message}`);
  return undefined;
}

/**
 * The parts of a platform error body `{ error, reason, message, fields? }`. `reason` is the most
 * specific machine-readable code (`TRUNCATED` under `ASSET_REJECTED`), `error` when the body
 * has none. Older platforms put the reason in front of the message ("TRUNCATED: ..."): it is
 * not repeated in `message`.
 */
export function errorText(body: unknown): { error: string; reason: string; message: string } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; reason?: unknown; message?: unknown };
  const error = typeof b.error === 'string' ? b.error : 'HTTP_ERROR';
  const reason = typeof b.reason === 'string' && b.reason ? b.reason : error;
  let message =
    typeof b.message === 'string'
      ? b.message
      : Array.isArray(b.message)
        ? b.message.join('; ')
        : body === undefined
          ? ''
          : typeof body === 'string'
            ? body
            : JSON.stringify(body);
  if (message.startsWith(`${reason}: `)) message = message.slice(reason.length + 2);
  return { error, reason, message };
}

/**
 * The error for an answer a command did not expect: a 4xx is the platform refusing (exit 3),
 * anything else a failure (exit 1). `what` says what was being done, when the command's name
 * does not already say it.
 */
export function platformError(what: string | undefined, status: number, body: unknown): Error {
  const { reason, message } = errorText(body);
  const text = `${what ? `${what}: ` : ''}${status} ${reason}: ${message}`;
  return status >= 400 && status < 500 ? new CliRefusedError(text) : new Error(text);
}

/** `platformError` for a raw `send` answer (the body still text). */
export function platformErrorFromText(what: string | undefined, res: { status: number; text: string }): Error {
  const refusal = credentialsRefusal(res.status, what, parseBody(res.text));
  return refusal ?? platformError(what, res.status, parseBody(res.text));
}
