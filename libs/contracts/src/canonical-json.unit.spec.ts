import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('writes numbers, strings and literals the way JSON.parse reads them back', () => {
    const text = canonicalJson({ n: 1.5e-7, s: 'é"\\\n', t: true, f: false, z: null, big: 1e21 });
    expect(text).toBe('{"big":1e+21,"f":false,"n":1.5e-7,"s":"é\\"\\\\\\n","t":true,"z":null}');
    expect(JSON.parse(text)).toEqual({ n: 1.5e-7, s: 'é"\\\n', t: true, f: false, z: null, big: 1e21 });
  });

  it('gives the same text whatever the insertion order of keys', () => {
    expect(canonicalJson({ x: 1, y: [1, 2] })).toBe(canonicalJson({ y: [1, 2], x: 1 }));
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson({ n: NaN })).toThrow(/not representable/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});
