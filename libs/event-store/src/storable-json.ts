/** Deeper data is refused rather than risking the stack (events carry ids and hashes, not trees). */
const MAX_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Keys named in a path; any other key (which could be input) is shown as [key]. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

export interface StorableJsonProblem {
  /** Where, as a dotted path (`data.a.3.b`); never the value. */
  path: string;
  problem: string;
}

/**
 * The event data exactly as PostgreSQL's jsonb will give it back, so that the hash computed now
 * equals the hash recomputed from the stored row: undefined object fields dropped (as JSON
 * drops them), undefined array items as null, -0 as 0, dates as their ISO text (as JSON writes
 * them), and everything jsonb or JSON cannot hold faithfully refused (NaN and infinities, NUL
 * characters and lone surrogates in strings or keys, bigints, functions, symbols, Maps, Buffers
 * and other non-plain objects, which JSON.stringify and canonicalJson would write differently).
 * Returns the value or the first problem found.
 */
export function storableJson(value: unknown, path = 'data', depth = 0): { value: unknown } | { error: StorableJsonProblem } {
  if (value === null) return { value: null };
  switch (typeof value) {
    case 'boolean':
      return { value };
    case 'number':
      if (!Number.isFinite(value)) return { error: { path, problem: 'is not a finite number' } };
      return { value: Object.is(value, -0) ? 0 : value };
    case 'string': {
      const problem = stringProblem(value);
      return problem ? { error: { path, problem } } : { value };
    }
    case 'object':
      break;
    default:
      return { error: { path, problem: `is a ${typeof value}, not JSON` } };
  }
  if (depth >= MAX_DEPTH) return { error: { path, problem: `nests deeper than ${MAX_DEPTH} levels` } };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i] === undefined ? null : value[i];
      const r = storableJson(item, `${path}.${i}`, depth + 1);
      if ('error' in r) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return { error: { path, problem: 'is an invalid date' } };
    return { value: value.toISOString() };
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return { error: { path, problem: 'is not a plain object' } };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    const keyProblem = stringProblem(key);
    if (keyProblem) return { error: { path, problem: `has a key that ${keyProblem}` } };
    const r = storableJson(field, `${path}.${IDENTIFIER.test(key) ? key : '[key]'}`, depth + 1);
    if ('error' in r) return r;
    // defineProperty, so that a key named __proto__ stays an own field as jsonb returns it.
    Object.defineProperty(out, key, { value: r.value, enumerable: true, writable: true, configurable: true });
  }
  return { value: out };
}

function stringProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (jsonb cannot store it)';
  if (LONE_SURROGATE.test(s)) return 'contains a lone surrogate (not valid Unicode)';
  return undefined;
}
