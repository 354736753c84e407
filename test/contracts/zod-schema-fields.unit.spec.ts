import { z, ZodType, ZodTypeAny } from 'zod';
import { safeText } from '@trellis/contracts';
import { code, SchemaField, schemaFields } from '../../scripts/zod-schema-fields';

/** The one row a scalar schema gives, without its path. */
function only(schema: ZodTypeAny): Omit<SchemaField, 'path'> {
  const rows = schemaFields(schema);
  expect(rows).toHaveLength(1);
  const { path, ...rest } = rows[0];
  expect(path).toBe('');
  return rest;
}

/** A zod kind this code has never heard of: what a future zod might add. */
class ZodHologram extends ZodType<unknown> {
  constructor() {
    super({ typeName: 'ZodHologram' } as never);
  }
  _parse(): never {
    throw new Error('not parsed in these tests');
  }
}

describe(schemaFields.name, () => {
  describe('strings', () => {
    it('gives lengths, formats and patterns with their message', () => {
      expect(only(z.string().min(1).max(100))).toEqual({ type: 'string', presence: 'required', constraints: ['length 1..100'] });
      expect(only(z.string().length(5))).toEqual({ type: 'string', presence: 'required', constraints: ['length = 5'] });
      expect(only(z.string().max(20))).toEqual({ type: 'string', presence: 'required', constraints: ['length <= 20'] });
      expect(only(z.string().uuid())).toEqual({ type: 'string (uuid)', presence: 'required', constraints: [] });
      expect(only(z.string().email().url())).toEqual({ type: 'string (email, url)', presence: 'required', constraints: [] });
      expect(only(z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256'))).toEqual({
        type: 'string',
        presence: 'required',
        constraints: ['pattern `^[0-9a-f]{64}$` (a lowercase hex SHA-256)'],
      });
      expect(only(z.string().regex(/^ab$/i)).constraints).toEqual(['pattern `/^ab$/i`']);
      expect(only(z.string().startsWith('prn-').endsWith('x').includes('-')).constraints).toEqual([
        'starts with `"prn-"`',
        'ends with `"x"`',
        'contains `"-"`',
      ]);
      expect(only(z.string().trim().toLowerCase()).constraints).toEqual(['trimmed', 'lower-cased']);
      expect(only(z.string().ip({ version: 'v4' })).type).toBe('string (ip v4)');
    });

    it('says which date-times are accepted', () => {
      expect(only(z.string().datetime())).toEqual({ type: 'string (date-time)', presence: 'required', constraints: ['ISO 8601, UTC (Z) only'] });
      expect(only(z.string().datetime({ offset: true, precision: 3 })).constraints).toEqual(['ISO 8601, any UTC offset, 3 fractional digits']);
    });
  });

  describe('numbers', () => {
    it('tells integers from numbers and gives bounds as ranges', () => {
      expect(only(z.number())).toEqual({ type: 'number', presence: 'required', constraints: [] });
      expect(only(z.number().int().nonnegative())).toEqual({ type: 'integer', presence: 'required', constraints: ['>= 0'] });
      expect(only(z.number().int().positive()).constraints).toEqual(['> 0']);
      expect(only(z.number().lt(1)).constraints).toEqual(['< 1']);
      expect(only(z.number().min(0).max(1)).constraints).toEqual(['range [0, 1]']);
      expect(only(z.number().gt(0).lt(1)).constraints).toEqual(['range (0, 1)']);
      expect(only(z.number().min(0).lt(1).finite().multipleOf(0.5)).constraints).toEqual(['range [0, 1)', 'finite', 'multiple of 0.5']);
      expect(only(z.bigint().min(1n))).toEqual({ type: 'bigint', presence: 'required', constraints: ['>= 1'] });
    });
  });

  describe('simple kinds', () => {
    it('names them', () => {
      expect(only(z.boolean()).type).toBe('boolean');
      expect(only(z.null()).type).toBe('null');
      expect(only(z.any()).type).toBe('any');
      expect(only(z.unknown()).type).toBe('unknown');
      expect(only(z.date()).type).toBe('date');
    });
  });

  describe('literals and enums', () => {
    it('lists the values', () => {
      expect(only(z.literal('caption'))).toEqual({ type: 'literal', presence: 'required', constraints: ['= `"caption"`'] });
      expect(only(z.literal(3)).constraints).toEqual(['= `3`']);
      expect(only(z.enum(['permit', 'deny']))).toEqual({ type: 'enum', presence: 'required', constraints: ['one of `permit`, `deny`'] });
      enum Level {
        Low,
        High,
      }
      expect(only(z.nativeEnum(Level)).constraints).toEqual(['one of `0`, `1`']);
      expect(only(z.nativeEnum({ A: 'a', B: 'b' } as const)).constraints).toEqual(['one of `"a"`, `"b"`']);
    });
  });

  describe('presence', () => {
    it('reads optional, nullable, nullish and default', () => {
      const rows = schemaFields(
        z.object({ a: z.string(), b: z.string().optional(), c: z.string().nullable(), d: z.string().nullish(), e: z.number().default(1) }).strict(),
      );
      expect(rows.map((r) => [r.path, r.presence, r.constraints])).toEqual([
        ['', 'required', ['no other keys']],
        ['a', 'required', []],
        ['b', 'optional', []],
        ['c', 'nullable', []],
        ['d', 'optional, nullable', []],
        ['e', 'optional', ['default 1']],
      ]);
    });
  });

  describe('objects', () => {
    it('gives every field under its path, parents first, and what happens to other keys', () => {
      const rows = schemaFields(
        z.object({
          strict: z.object({ x: z.number() }).strict(),
          kept: z.object({ y: z.number() }).passthrough(),
          dropped: z.object({}),
          typed: z.object({}).catchall(z.number().int()),
        }),
      );
      expect(rows.map((r) => [r.path, r.type, r.constraints])).toEqual([
        ['', 'object', ['other keys dropped']],
        ['strict', 'object', ['no other keys']],
        ['strict.x', 'number', []],
        ['kept', 'object', ['other keys kept']],
        ['kept.y', 'number', []],
        ['dropped', 'object', ['other keys dropped']],
        ['typed', 'object', ['other keys: integer']],
      ]);
    });
  });

  describe('arrays, sets, tuples, records and maps', () => {
    it('folds scalar items into the row and gives object items their own rows', () => {
      const rows = schemaFields(
        z.object({
          tags: z.array(z.string().max(10)).min(1).max(5),
          maybe: z.array(z.string().nullable()),
          files: z.array(z.object({ key: z.string() }).strict()).length(2),
          unique: z.set(z.number()).max(3),
          pair: z.tuple([z.string(), z.number()]),
          counts: z.record(z.string().max(100), z.number().int()),
          byId: z.map(z.string().uuid(), z.object({ n: z.number() })),
        }),
      );
      expect(rows.slice(1).map((r) => [r.path, r.type, r.constraints])).toEqual([
        ['tags', 'array of string', ['items 1..5', 'each: length <= 10']],
        ['maybe', 'array of string', ['each: nullable']],
        ['files', 'array of object', ['items = 2', 'each: no other keys']],
        ['files[].key', 'string', []],
        ['unique', 'set of number', ['items <= 3', 'no duplicates']],
        ['pair', 'tuple', ['exactly 2 items']],
        ['pair[0]', 'string', []],
        ['pair[1]', 'number', []],
        ['counts', 'record of integer', ['keys: string, length <= 100']],
        ['byId', 'map of object', ['keys: string (uuid)', 'each: other keys dropped']],
        ['byId.*.n', 'number', []],
      ]);
    });
  });

  describe('unions', () => {
    it('gives each shape of a discriminated union under its discriminator value', () => {
      const rows = schemaFields(
        z.object({
          source: z.discriminatedUnion('kind', [
            z.object({ kind: z.literal('run'), runId: z.string() }).strict(),
            z.object({ kind: z.literal('manual') }).strict(),
          ]),
        }),
      );
      expect(rows.slice(1).map((r) => [r.path, r.type, r.constraints])).toEqual([
        ['source', 'one of 2 shapes, by `kind`', []],
        ['source{kind=run}', 'object', ['no other keys']],
        ['source{kind=run}.kind', 'literal', ['= `"run"`']],
        ['source{kind=run}.runId', 'string', []],
        ['source{kind=manual}', 'object', ['no other keys']],
        ['source{kind=manual}.kind', 'literal', ['= `"manual"`']],
      ]);
    });

    it('says a union of scalars in one row, and numbers the options of a union of objects', () => {
      expect(only(z.union([z.string().uuid(), z.literal('none')]))).toEqual({
        type: 'string (uuid) | literal',
        presence: 'required',
        constraints: ['= `"none"`'],
      });
      expect(only(z.union([z.string().max(3), z.number().min(0)])).constraints).toEqual(['string: length <= 3', 'number: >= 0']);
      const rows = schemaFields(z.union([z.object({ a: z.string() }), z.number()]));
      expect(rows.map((r) => [r.path, r.type])).toEqual([
        ['', 'one of 2 shapes'],
        ['{1}', 'object'],
        ['{1}.a', 'string'],
        ['{2}', 'number'],
      ]);
    });

    it('merges the sides of an intersection', () => {
      const rows = schemaFields(z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() }).strict()));
      expect(rows.map((r) => [r.path, r.type, r.constraints])).toEqual([
        ['', 'all of: object & object', ['other keys dropped', 'no other keys']],
        ['a', 'string', []],
        ['b', 'number', []],
      ]);
    });
  });

  describe('effects and other wrappers', () => {
    it('reads through refinements, transforms, pipelines, brands, read-only and catch', () => {
      expect(only(z.string().refine((s) => s !== 'x', 'not x'))).toEqual({ type: 'string', presence: 'required', constraints: ['custom check'] });
      expect(only(z.string().transform((s) => s.trim())).constraints).toEqual(['transformed']);
      expect(only(z.preprocess((v) => v, z.number())).constraints).toEqual(['preprocessed']);
      expect(only(z.string().brand<'Id'>())).toEqual({ type: 'string', presence: 'required', constraints: [] });
      expect(only(z.array(z.number()).readonly()).constraints).toEqual(['read-only']);
      expect(only(z.number().catch(0)).constraints).toEqual(['invalid input replaced by a fallback']);
      expect(only(z.string().pipe(z.string().max(5)))).toEqual({ type: 'string', presence: 'required', constraints: ['length <= 5'] });
    });

    it('reads the contracts own safe text: the bounds after trimming and its checks', () => {
      expect(only(safeText({ max: 2000, multiline: true, refusePersonalData: true }))).toEqual({
        type: 'string',
        presence: 'required',
        constraints: ['length 1..2000', 'transformed', '3 custom checks'],
      });
    });

    it('keeps descriptions given with describe()', () => {
      const rows = schemaFields(
        z.object({ runId: z.string().describe('The run.'), note: z.string().optional().describe('Free text.') }).describe('A thing happened.'),
      );
      expect(rows.map((r) => r.description)).toEqual(['A thing happened.', 'The run.', 'Free text.']);
    });

    it('stops at a lazy schema that refers back to itself', () => {
      type Tree = { name: string; children: Tree[] };
      const tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(tree) }));
      const rows = schemaFields(z.object({ root: tree, other: tree }));
      expect(rows.map((r) => [r.path, r.type, r.constraints])).toEqual([
        ['', 'object', ['other keys dropped']],
        ['root', 'object', ['other keys dropped']],
        ['root.name', 'string', []],
        ['root.children', 'array of recursive', ['each: the same as `root`']],
        ['other', 'object', ['other keys dropped']],
        ['other.name', 'string', []],
        ['other.children', 'array of recursive', ['each: the same as `other`']],
      ]);
    });
  });

  describe('an unknown kind', () => {
    it('gives a row that names the kind instead of failing', () => {
      expect(only(new ZodHologram())).toEqual({ type: 'ZodHologram', presence: 'required', constraints: ['not described: unknown zod kind `ZodHologram`'] });
      const rows = schemaFields(z.object({ odd: new ZodHologram().optional() }));
      expect(rows[1]).toEqual({ path: 'odd', type: 'ZodHologram', presence: 'optional', constraints: ['not described: unknown zod kind `ZodHologram`'] });
    });

    it('names the class when there is no zod definition at all', () => {
      class NotZod {}
      expect(only(new NotZod() as unknown as ZodTypeAny)).toEqual({
        type: 'NotZod',
        presence: 'required',
        constraints: ['not described: unknown zod kind `NotZod`'],
      });
    });
  });
});

describe(code.name, () => {
  it('quotes text with backticks in it', () => {
    expect(code('a')).toBe('`a`');
    expect(code('a`b')).toBe('`` a`b ``');
  });
});
