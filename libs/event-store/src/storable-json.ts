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

/** Why the fast walk gave up: storableJson then names the problem. */
const UNSTORABLE = Symbol('unstorable');

/**
 * storableJson and canonicalJson of its value in one walk: the value as jsonb will give it back
 * (keys in the order given) and its canonical text (keys sorted), as append needs both for every
 * event. The walk allocates no paths; when it finds a problem, storableJson walks again to name
 * it, so the error is the one storableJson gives.
 */
export function storableCanonicalJson(value: unknown): { value: unknown; json: string } | { error: StorableJsonProblem } {
  const walk = new CanonicalWalk();
  const copy = walk.value(value, 0);
  if (copy !== UNSTORABLE) return { value: copy, json: walk.json };
  const named = storableJson(value);
  if ('error' in named) return named;
  throw new Error('storableCanonicalJson refused a value storableJson accepts');
}

class CanonicalWalk {
  json = '';

  value(v: unknown, depth: number): unknown {
    if (v === null) {
      this.json += 'null';
      return null;
    }
    switch (typeof v) {
      case 'boolean':
        this.json += v ? 'true' : 'false';
        return v;
      case 'number': {
        if (!Number.isFinite(v)) return UNSTORABLE;
        const n = Object.is(v, -0) ? 0 : v;
        this.json += JSON.stringify(n);
        return n;
      }
      case 'string':
        if (stringProblem(v)) return UNSTORABLE;
        this.json += JSON.stringify(v);
        return v;
      case 'object':
        break;
      default:
        return UNSTORABLE;
    }
    if (depth >= MAX_DEPTH) return UNSTORABLE;
    if (Array.isArray(v)) {
      const out: unknown[] = new Array(v.length);
      this.json += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.json += ',';
        const item = this.value(v[i] === undefined ? null : v[i], depth + 1);
        if (item === UNSTORABLE) return UNSTORABLE;
        out[i] = item;
      }
      this.json += ']';
      return out;
    }
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) return UNSTORABLE;
      const iso = v.toISOString();
      this.json += JSON.stringify(iso);
      return iso;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return UNSTORABLE;
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    // The copy's keys are laid out in the order given, then filled in canonical (sorted) order,
    // the order the text is written in.
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      if (stringProblem(k)) return UNSTORABLE;
      // defineProperty, so that a key named __proto__ stays an own field as jsonb returns it.
      if (k === '__proto__') Object.defineProperty(out, k, { value: null, enumerable: true, writable: true, configurable: true });
      else out[k] = null;
    }
    keys.sort();
    this.json += '{';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      this.json += `${i > 0 ? ',' : ''}${JSON.stringify(k)}:`;
      const field = this.value(obj[k], depth + 1);
      if (field === UNSTORABLE) return UNSTORABLE;
      out[k] = field;
    }
    this.json += '}';
    return out;
  }
}
