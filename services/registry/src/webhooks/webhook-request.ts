import { z } from 'zod';
import { isUuid, registryContracts } from '@trellis/contracts';

/**
 * What an admin may send to /webhooks, checked whole: every problem at once, each naming its
 * field. Messages never quote the input: a URL may carry a token, so it is described, not echoed.
 */
export interface RequestProblem {
  field: string;
  message: string;
}

export const MAX_URL_LENGTH = 2048;
export const ALL_EVENT_TYPES = '*';
const MAX_EVENT_TYPES = 50;

export interface WebhookRegistration {
  url: string;
  /** Sorted, without duplicates; ['*'] alone when '*' was asked for. */
  eventTypes: string[];
}

const RegistrationBody = z
  .object({
    url: z.string({ message: 'a string' }).min(1, 'an absolute http or https URL').max(MAX_URL_LENGTH, `at most ${MAX_URL_LENGTH} characters`),
    eventTypes: z
      .array(z.string({ message: 'a string' }).max(100, 'not a registry event type'), { message: 'an array of registry event types' })
      .min(1, `at least one event type, or '${ALL_EVENT_TYPES}'`)
      .max(MAX_EVENT_TYPES, `at most ${MAX_EVENT_TYPES} event types`),
  })
  .strict();

export function knownEventTypes(): string[] {
  return registryContracts.types();
}

/** Problems of the URL itself, by rule; the URL is not repeated in any of them. */
function urlProblems(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return ['an absolute http or https URL'];
  }
  const problems: string[] = [];
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push('only http and https URLs are allowed');
  // Credentials in a URL end up in proxies' and servers' logs; the signature authenticates us instead.
  if (url.username !== '' || url.password !== '') problems.push('must not carry a user name or password');
  if (raw.includes('#')) problems.push('must not have a fragment');
  if (url.hostname === '') problems.push('must name a host');
  if ([...raw].some((c) => c.trim() === '' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    problems.push('must not contain spaces or control characters');
  return problems;
}

export function parseWebhookRegistration(body: unknown): { request: WebhookRegistration | null; problems: RequestProblem[] } {
  const parsed = RegistrationBody.safeParse(body);
  if (!parsed.success) {
    return {
      request: null,
      problems: parsed.error.issues.map((i) => ({
        field: ['body', ...i.path].join('.'),
        // zod's own message for unknown keys lists them: they are input, so not repeated.
        message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length === 1 ? '' : 's'}; allowed: url, eventTypes` : i.message,
      })),
    };
  }
  const problems: RequestProblem[] = urlProblems(parsed.data.url).map((message) => ({ field: 'body.url', message }));
  const known = new Set(knownEventTypes());
  parsed.data.eventTypes.forEach((t, i) => {
    if (t !== ALL_EVENT_TYPES && !known.has(t)) {
      problems.push({ field: `body.eventTypes.${i}`, message: `not a registry event type; known: ${[...known].join(', ')}, or '${ALL_EVENT_TYPES}'` });
    }
  });
  if (problems.length > 0) return { request: null, problems };
  const types = [...new Set(parsed.data.eventTypes)].sort();
  return { request: { url: parsed.data.url, eventTypes: types.includes(ALL_EVENT_TYPES) ? [ALL_EVENT_TYPES] : types }, problems };
}

/** The URL as the API shows it: a query string may carry the receiver's token, so its content is left out. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '(unreadable)';
  }
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const DEFAULT_DELIVERY_LIMIT = 50;
export const MAX_DELIVERY_LIMIT = 500;

export interface DeliveryQuery {
  limit: number;
  status: DeliveryStatus | null;
}

/** Query parameters arrive as strings, arrays (a repeated parameter) or nothing. */
export function parseDeliveryQuery(limit: unknown, status: unknown): { query: DeliveryQuery | null; problems: RequestProblem[] } {
  const problems: RequestProblem[] = [];
  let n = DEFAULT_DELIVERY_LIMIT;
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_DELIVERY_LIMIT) {
      problems.push({ field: 'query.limit', message: `an integer from 1 to ${MAX_DELIVERY_LIMIT}` });
    } else n = Number(limit);
  }
  if (status !== undefined && (typeof status !== 'string' || !(DELIVERY_STATUSES as readonly string[]).includes(status))) {
    problems.push({ field: 'query.status', message: `one of ${DELIVERY_STATUSES.join(', ')}` });
  }
  if (problems.length > 0) return { query: null, problems };
  return { query: { limit: n, status: (status as DeliveryStatus | undefined) ?? null }, problems };
}

/** A path id: UUIDs only, lowercased as PostgreSQL returns them. */
export function webhookIdProblem(id: unknown): RequestProblem | null {
  return isUuid(id) ? null : { field: 'params.id', message: 'a UUID' };
}
