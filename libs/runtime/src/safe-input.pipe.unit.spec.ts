import { InputException, MAX_INPUT_DEPTH, SafeInputPipe } from './safe-input.pipe';

// Issue 11, item 6 (input hygiene): the one check every HTTP parameter and body passes.
describe(SafeInputPipe.name, () => {
  const pipe = new SafeInputPipe();
  const refused = (value: unknown, type: 'param' | 'query' | 'body', data?: string) => {
    try {
      pipe.transform(value, { type, data });
    } catch (err) {
      expect(err).toBeInstanceOf(InputException);
      expect((err as InputException).errorClass).toBe('validation');
      return err as InputException;
    }
    throw new Error('not refused');
  };

  describe('transform', () => {
    it('passes ordinary values through unchanged', () => {
      const body = { name: 'Zoë 😀', nested: [{ text: 'line 1\nline 2' }], n: 1, ok: true, none: null };
      expect(pipe.transform(body, { type: 'body' })).toBe(body);
      expect(pipe.transform('S0001', { type: 'param', data: 'ref' })).toBe('S0001');
      expect(pipe.transform(Buffer.from([0, 1, 2]), { type: 'body' })).toBeInstanceOf(Buffer);
      expect(pipe.transform('a\u0000b', { type: 'custom' })).toBe('a\u0000b');
    });

    it('refuses NUL and lone surrogates anywhere in a body, naming the field and not the value', () => {
      const err = refused({ items: [{ name: 'Jane\u0000Doe' }] }, 'body');
      expect(err.fields).toEqual(['items.0.name']);
      expect(err.message).not.toMatch(/Jane/);
      expect(refused({ a: '\uD800' }, 'body').fields).toEqual(['a']);
      expect(refused({ ['k\u0000']: 1 }, 'body').fields).toEqual(['body']);
    });

    it('refuses control characters in path and query parameters', () => {
      expect(refused('a\nb', 'param', 'ref').fields).toEqual(['ref']);
      expect(refused(['x', 'y\u0007'], 'query', 'format').fields).toEqual(['format.1']);
      expect(refused({ size: '\uDC00' }, 'query').fields).toEqual(['query.size']);
    });

    it(`refuses bodies nested more than ${MAX_INPUT_DEPTH} levels deep`, () => {
      let deep: unknown = 1;
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(refused(deep, 'body').reason).toBe('TOO_DEEP');
      let ok: unknown = 1;
      for (let i = 0; i < MAX_INPUT_DEPTH; i++) ok = { a: ok };
      expect(pipe.transform(ok, { type: 'body' })).toBe(ok);
    });
  });
});
