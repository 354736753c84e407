import { Logger } from '@nestjs/common';
import type { OpenLineageRunEvent } from './openlineage-event';
import { OpenLineageErrorCode, OpenLineageException } from './openlineage.exception';

/*
 * Delivers run events to an OpenLineage collector (Marquez or any other) over HTTP. Lineage is a
 * side channel: a collector that is down or refuses an event must never fail a training run, so
 * `send` resolves to a result instead of throwing, and gives up after a bounded number of tries.
 * The event body is never logged nor put in a result: what leaves the trainer goes to the
 * collector only.
 */

/** The OpenLineage clients' default path when the configured URL names only a host. */
export const DEFAULT_LINEAGE_ENDPOINT = '/api/v1/lineage';

export interface OpenLineageHttpTransportOptions {
  /** Base URL of the collector; a URL with a path is used as it is (see resolveLineageUrl). */
  url: string;
  /** Path for a URL that has none (OPENLINEAGE_ENDPOINT). */
  endpoint?: string;
  /** Sent as `Authorization: Bearer`, as the OpenLineage clients do with their `api_key` auth. */
  apiKey?: string;
  /** Per attempt, connecting and waiting for the status line; 5 s as in the OpenLineage clients. */
  timeoutMs?: number;
  maxAttempts?: number;
  /** Ceiling of the first retry's delay, doubled each retry up to maxDelayMs; the delay is drawn below it (full jitter). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Uniform in [0, 1): injected so that tests draw known delays. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

export type DeliveryResult =
  | { delivered: true; attempts: number; status: number }
  /** `status` is the last HTTP status, or null when no attempt got one (timeouts, refused connections). */
  | { delivered: false; attempts: number; status: number | null; reason: string };

const DEFAULTS = { timeoutMs: 5_000, maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 10_000 };

export class OpenLineageHttpTransport {
  /** Where events are POSTed; its query string is kept but never logged. */
  readonly endpointUrl: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly logger: Pick<Logger, 'warn' | 'debug'>;
  private readonly headers: Record<string, string>;

  /**
   * The transport configured by the OpenLineage clients' legacy variables (OPENLINEAGE_URL,
   * OPENLINEAGE_ENDPOINT, OPENLINEAGE_API_KEY), or null when OPENLINEAGE_URL is unset or empty:
   * then the trainer only publishes to Kafka.
   */
  static fromEnv(
    env: NodeJS.ProcessEnv = process.env,
    options: Omit<OpenLineageHttpTransportOptions, 'url' | 'endpoint' | 'apiKey'> = {},
  ): OpenLineageHttpTransport | null {
    const url = env.OPENLINEAGE_URL?.trim();
    if (!url) return null;
    return new OpenLineageHttpTransport({
      ...options,
      url,
      endpoint: env.OPENLINEAGE_ENDPOINT?.trim() || undefined,
      apiKey: env.OPENLINEAGE_API_KEY?.trim() || undefined,
    });
  }

  constructor(options: OpenLineageHttpTransportOptions) {
    this.endpointUrl = resolveLineageUrl(options.url, options.endpoint);
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.maxAttempts = positive('maxAttempts', options.maxAttempts ?? DEFAULTS.maxAttempts, true);
    this.baseDelayMs = nonNegative('baseDelayMs', options.baseDelayMs ?? DEFAULTS.baseDelayMs);
    this.maxDelayMs = nonNegative('maxDelayMs', options.maxDelayMs ?? DEFAULTS.maxDelayMs);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.logger = options.logger ?? new Logger('OpenLineage');
    this.headers = { 'content-type': 'application/json', ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) };
  }

  async send(event: OpenLineageRunEvent): Promise<DeliveryResult> {
    let body: string;
    try {
      body = JSON.stringify(event);
    } catch {
      return this.gaveUp({ delivered: false, attempts: 0, status: null, reason: 'the event could not be serialised as JSON' });
    }

    let last: { status: number | null; reason: string; retryAfterMs: number | null } = { status: null, reason: 'not attempted', retryAfterMs: null };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      last = await this.attempt(body);
      if (last.status !== null && last.status >= 200 && last.status < 300) return { delivered: true, attempts: attempt, status: last.status };
      if (!isRetryable(last.status)) {
        return this.gaveUp({ delivered: false, attempts: attempt, status: last.status, reason: `${last.reason}; not retried` });
      }
      if (attempt < this.maxAttempts) {
        const delay = this.delayBefore(attempt + 1, last.retryAfterMs);
        this.logger.debug(`attempt ${attempt} to ${this.target()} failed (${last.reason}); retrying in ${delay} ms`);
        await this.sleep(delay);
      }
    }
    return this.gaveUp({
      delivered: false,
      attempts: this.maxAttempts,
      status: last.status,
      reason: `${last.reason}; gave up after ${this.maxAttempts} attempts`,
    });
  }

  private async attempt(body: string): Promise<{ status: number | null; reason: string; retryAfterMs: number | null }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      // A redirect is reported, not followed: following would turn a 301/302 POST into a GET and
      // could carry the event to a host nobody configured; the operator fixes OPENLINEAGE_URL instead.
      const response = await fetch(this.endpointUrl, { method: 'POST', headers: this.headers, body, signal: controller.signal, redirect: 'manual' });
      // The body is not read: a collector's error page may quote the event back.
      await response.body?.cancel().catch(() => undefined);
      return { status: response.status, reason: `HTTP ${response.status}`, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    } catch (err) {
      if (controller.signal.aborted) return { status: null, reason: `timed out after ${this.timeoutMs} ms`, retryAfterMs: null };
      return { status: null, reason: `network error (${networkErrorCode(err)})`, retryAfterMs: null };
    } finally {
      clearTimeout(timer);
    }
  }

  private delayBefore(attempt: number, retryAfter: number | null): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2));
    const jittered = Math.floor(clamp01(this.random()) * ceiling);
    // A collector that says when to come back knows better than our guess, within our own bound.
    return Math.min(this.maxDelayMs, Math.max(jittered, retryAfter ?? 0));
  }

  private gaveUp(result: DeliveryResult & { delivered: false }): DeliveryResult {
    this.logger.warn(`OpenLineage event not delivered to ${this.target()}: ${result.reason}`);
    return result;
  }

  // Origin and path only: a query string may carry a token.
  private target(): string {
    const u = new URL(this.endpointUrl);
    return `${u.origin}${u.pathname}`;
  }
}

/**
 * The Java client's rule, which the Python client's docs describe the same way for a bare host: a
 * URL with a path is the endpoint itself; a URL without one gets `endpoint` or /api/v1/lineage.
 * Giving both a path and an endpoint is refused, as the Java client does, rather than guessing
 * which one was meant.
 */
export function resolveLineageUrl(url: string, endpoint?: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidConfig('OPENLINEAGE_URL is not a valid absolute URL', 'OPENLINEAGE_URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidConfig(`OPENLINEAGE_URL must be an http or https URL, not ${parsed.protocol}`, 'OPENLINEAGE_URL');
  }
  // fetch refuses such URLs, and a secret in a URL ends up in logs: OPENLINEAGE_API_KEY is the place for it.
  if (parsed.username || parsed.password) {
    throw invalidConfig('OPENLINEAGE_URL must not contain credentials; set OPENLINEAGE_API_KEY instead', 'OPENLINEAGE_URL');
  }
  const hasPath = parsed.pathname !== '' && parsed.pathname !== '/';
  if (hasPath && endpoint) {
    throw invalidConfig('OPENLINEAGE_URL has a path and OPENLINEAGE_ENDPOINT is set too; give one of them', 'OPENLINEAGE_ENDPOINT');
  }
  if (!hasPath) {
    const path = endpoint ?? DEFAULT_LINEAGE_ENDPOINT;
    parsed.pathname = path.startsWith('/') ? path : `/${path}`;
  }
  parsed.hash = '';
  return parsed.toString();
}

// 408 and 429 are the 4xx that say "later", like every 5xx; any other 4xx will not change on resend.
function isRetryable(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

// Only the code (ECONNREFUSED, UND_ERR_SOCKET): undici's messages can carry more than we want to log.
function networkErrorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; name?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.name === 'string') return cause.name;
  return err instanceof Error ? err.name : 'unknown';
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0;
}

function positive(field: string, value: number, integer = false): number {
  if (!(Number.isFinite(value) && value > 0) || (integer && !Number.isInteger(value))) {
    throw invalidConfig(`${field} must be a positive ${integer ? 'integer' : 'number'}`, field);
  }
  return value;
}

function nonNegative(field: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw invalidConfig(`${field} must be a non-negative number`, field);
  return value;
}

function invalidConfig(message: string, field: string): OpenLineageException {
  return new OpenLineageException(OpenLineageErrorCode.InvalidConfiguration, message, [field]);
}
