// Pure parts of the audit page (no DOM): filters in the address, event summaries, chain results. Unit-tested in node.

export interface AuditFilters {
  stream?: string;
  actor?: string;
  type?: string;
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
}

export const FILTER_KEYS = ['stream', 'actor', 'type', 'from', 'to'] as const;

/** The filters a link carries (`#/audit?type=ConsentWithdrawn`), blanks dropped. */
export function filtersFromParams(params: URLSearchParams): AuditFilters {
  const f: AuditFilters = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

/** A time the API takes: a full ISO 8601 instant, or a date (midnight UTC). Returns the ISO form, or an error. */
export function parseInstant(input: string): { iso?: string; error?: string } {
  const s = input.trim();
  if (!s) return {};
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s))
    return { error: `"${s}" is not a date or time (write 2026-12-04 or 2026-12-04T20:00:00Z)` };
  // A time without a zone is read as UTC, as the trail shows its times.
  const withZone = /T|\s/.test(s) && !/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T');
  const ms = Date.parse(withZone.length === 10 ? `${withZone}T00:00:00Z` : withZone);
  if (Number.isNaN(ms)) return { error: `"${s}" is not a valid time` };
  return { iso: new Date(ms).toISOString() };
}

/** Validates a filter form: the filters to ask with, or the problems per field. */
export function checkFilters(form: AuditFilters): { filters?: AuditFilters; errors?: Partial<Record<keyof AuditFilters, string>> } {
  const errors: Partial<Record<keyof AuditFilters, string>> = {};
  const filters: AuditFilters = {};
  for (const k of ['stream', 'actor', 'type'] as const) {
    const v = form[k]?.trim();
    if (v) filters[k] = v;
  }
  for (const k of ['from', 'to'] as const) {
    const { iso, error } = parseInstant(form[k] ?? '');
    if (error) errors[k] = error;
    else if (iso) filters[k] = iso;
  }
  if (filters.from && filters.to && filters.from >= filters.to) errors.to = '"to" must be after "from"';
  return Object.keys(errors).length ? { errors } : { filters };
}

/** The event data in one line: its fields as `key=value`, long values cut. */
export function summarizeData(data: string, max = 160): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return cut(data, max);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return cut(JSON.stringify(parsed), max);
  const parts = Object.entries(parsed as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return cut(parts.join(' '), max);
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Data pretty-printed for a closer look. */
export { prettyJson as prettyData } from '../ui/json-text';

export interface ChainResult {
  log: string;
  ok: boolean;
  checked: number;
  lastPosition: number | null;
  brokenAt: number | null;
  brokenCount: number;
  reason: string | null;
}

/** What a chain verification says, in words. */
export function chainText(v: ChainResult): string {
  if (v.ok) return `ok: ${v.checked} events checked${v.lastPosition !== null ? `, up to position ${v.lastPosition}` : ''}`;
  const more = v.brokenCount > 1 ? ` (${v.brokenCount} breaks in all)` : '';
  return `broken at position ${v.brokenAt ?? '?'}: ${v.reason ?? 'no reason given'}${more}`;
}
