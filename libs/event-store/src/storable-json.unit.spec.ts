import { isDeepStrictEqual } from 'node:util';
import { canonicalJson } from '@trellis/contracts';
import { storableCanonicalJson, storableJson } from './storable-json';

/** A small seeded generator (mulberry32), so that a failure is reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'B', 'é', '10', '2', '__proto__', 'constructor', 'a"b', 'z\n', '😀', 'aa', ''];
const STRINGS = ['', 'x', 'é\n\t"\\', '😀', '\u2028', '</script>', '0'];

function valueOf(next: () => number, depth: number): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const kind = depth > 3 ? Math.floor(next() * 5) : Math.floor(next() * 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return pick([0, -0, 1, -1.5, 1e21, 1e-7, Number.MAX_SAFE_INTEGER, 0.1 + 0.2]);
    case 3:
      return pick(STRINGS);
    case 4:
      return next() < 0.5 ? new Date(Date.UTC(2026, 0, 1, 0, 0, 0, Math.floor(next() * 1e9))) : undefined;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => valueOf(next, depth + 1));
    default: {
      const out: Record<string, unknown> = next() < 0.2 ? Object.create(null) : {};
      for (let i = Math.floor(next() * 6); i > 0; i--) {
        Object.defineProperty(out, pick(KEYS), { value: valueOf(next, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

describe(storableCanonicalJson.name, () => {
  it('gives the value storableJson gives and canonicalJson of it, for varied data', () => {
    const next = random(16);
    for (let i = 0; i < 2000; i++) {
      const data = valueOf(next, 0);
      const expected = storableJson(data);
      if ('error' in expected) {
        // undefined at the top: refused by both.
        expect(storableCanonicalJson(data)).toEqual(expected);
        continue;
      }
      const got = storableCanonicalJson(data);
      if (!('value' in got)) throw new Error(`refused ${String(data)}`);
      expect(got.json).toBe(canonicalJson(expected.value));
      // isDeepStrictEqual: jest's toStrictEqual compares .constructor, which a key named constructor overrides.
      expect(isDeepStrictEqual(got.value, expected.value)).toBe(true);
      // Keys in the order given (the text alone is sorted), as storableJson keeps them.
      expect(JSON.stringify(got.value)).toBe(JSON.stringify(expected.value));
    }
  });

  it('keeps a key named __proto__ as an own field', () => {
    const data = JSON.parse('{"__proto__":{"x":1},"a":2}') as unknown;
    const got = storableCanonicalJson(data);
    expect(got).toEqual({ value: data, json: '{"__proto__":{"x":1},"a":2}' });
    expect(Object.getPrototypeOf((got as { value: object }).value)).toBe(Object.prototype);
  });

  it('refuses what storableJson refuses, with its path and problem', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    const refused: unknown[] = [
      { a: NaN },
      { a: { b: [1, Infinity] } },
      { z: 'ok', a: 'nul\u0000' },
      { ['lone\uD800']: 1 },
      ['\uDC00x'],
      { a: 1n },
      { a: () => 1 },
      { a: Symbol('s') },
      { a: new Map() },
      { a: Buffer.from('x') },
      { a: new Date('nope') },
      { b: 1, a: { c: new (class Thing {})() } },
      deep,
      undefined,
    ];
    for (const data of refused) {
      const expected = storableJson(data);
      expect('error' in expected).toBe(true);
      expect(storableCanonicalJson(data)).toEqual(expected);
    }
  });
});
