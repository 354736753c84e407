/**
 * A zod (v3) schema as a table of fields, read from the schema objects themselves (their `_def`),
 * for the event catalogue (scripts/event-catalogue.ts). Refinements and transforms are functions,
 * so all that can be said of them is that they exist ("custom check", "transformed").
 */
import { z, ZodTypeAny } from 'zod';

export type Presence = 'required' | 'optional' | 'nullable' | 'optional, nullable';

export interface SchemaField {
  /**
   * '' for the schema itself; below it `a.b` (a field of an object), `a[]` (each item of an
   * array or set), `a[0]` (a tuple's first item), `a.*` (each value of a record or map),
   * `a{kind=x}` (the shape of a discriminated union whose `kind` is x), `a{2}` (a union's second option).
   */
  path: string;
  type: string;
  presence: Presence;
  constraints: string[];
  /** Set with zod's `.describe()`. */
  description?: string;
}

/** Every field of a schema, parents before their children, in the order the schema declares them. */
export function schemaFields(schema: ZodTypeAny): SchemaField[] {
  const out: SchemaField[] = [];
  visit(schema, '', out, new Map());
  return out;
}

type Def = { typeName?: unknown; description?: unknown };

/** What wrappers (optional, nullable, default, effects...) add around the schema they wrap. */
interface Wrapping {
  optional: boolean;
  nullable: boolean;
  notes: string[];
  customChecks: number;
  /** Lazy schemas passed on the way: being described until this value is, so a reference back is recursion. */
  lazies: ZodTypeAny[];
  description?: string;
}

function visit(schema: ZodTypeAny, path: string, out: SchemaField[], ancestors: Map<ZodTypeAny, string>): void {
  const wrapping: Wrapping = { optional: false, nullable: false, notes: [], customChecks: 0, lazies: [] };
  const core = unwrap(schema, wrapping, out, path, ancestors);
  if (core) {
    const row: SchemaField = { path, type: '', presence: presenceOf(wrapping), constraints: [] };
    if (wrapping.description) row.description = wrapping.description;
    out.push(row);
    const children: SchemaField[] = [];
    ancestors.set(core, path);
    describeCore(core, row, children, ancestors);
    ancestors.delete(core);
    row.constraints.push(...wrapping.notes, ...customCheckNote(wrapping.customChecks));
    out.push(...children);
  }
  for (const lazy of wrapping.lazies) ancestors.delete(lazy);
}

/**
 * Peels the wrappers off a schema, noting what each adds, down to the schema that says what the
 * value is. A pipeline is read as its input side (what is accepted) with the output side's
 * constraints added. Returns undefined when the schema is one already being described (a lazy
 * schema that refers to itself), after writing a row that says so.
 */
function unwrap(schema: ZodTypeAny, w: Wrapping, out: SchemaField[], path: string, ancestors: Map<ZodTypeAny, string>): ZodTypeAny | undefined {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (w.description === undefined && typeof def.description === 'string') w.description = def.description;
    const ancestor = ancestors.get(s);
    if (ancestor !== undefined) {
      out.push({ path, type: 'recursive', presence: presenceOf(w), constraints: [`the same as ${ancestor === '' ? 'the whole value' : `\`${ancestor}\``}`] });
      return undefined;
    }
    switch (def.typeName) {
      case z.ZodFirstPartyTypeKind.ZodOptional:
        w.optional = true;
        s = (def as z.ZodOptionalDef).innerType;
        break;
      case z.ZodFirstPartyTypeKind.ZodNullable:
        w.nullable = true;
        s = (def as z.ZodNullableDef).innerType;
        break;
      case z.ZodFirstPartyTypeKind.ZodDefault: {
        const d = def as z.ZodDefaultDef;
        w.optional = true;
        w.notes.push(`default ${literal(d.defaultValue())}`);
        s = d.innerType;
        break;
      }
      case z.ZodFirstPartyTypeKind.ZodEffects: {
        const d = def as z.ZodEffectsDef;
        if (d.effect.type === 'refinement') w.customChecks += 1;
        else w.notes.push(d.effect.type === 'transform' ? 'transformed' : 'preprocessed');
        s = d.schema;
        break;
      }
      case z.ZodFirstPartyTypeKind.ZodBranded:
        s = (def as z.ZodBrandedDef<ZodTypeAny>).type;
        break;
      case z.ZodFirstPartyTypeKind.ZodReadonly:
        w.notes.push('read-only');
        s = (def as z.ZodReadonlyDef).innerType;
        break;
      case z.ZodFirstPartyTypeKind.ZodCatch:
        w.notes.push('invalid input replaced by a fallback');
        s = (def as z.ZodCatchDef).innerType;
        break;
      case z.ZodFirstPartyTypeKind.ZodLazy:
        ancestors.set(s, path);
        w.lazies.push(s);
        s = (def as z.ZodLazyDef).getter();
        break;
      case z.ZodFirstPartyTypeKind.ZodPipeline: {
        const d = def as z.ZodPipelineDef<ZodTypeAny, ZodTypeAny>;
        w.notes.push(...(schemaFields(d.out)[0]?.constraints ?? []));
        s = d.in;
        break;
      }
      default:
        return s;
    }
  }
}

/** Sets the row's type and constraints from the core schema; its fields, items or options go to `children`. */
function describeCore(s: ZodTypeAny, row: SchemaField, children: SchemaField[], ancestors: Map<ZodTypeAny, string>): void {
  const def = defOf(s);
  const simple = SIMPLE_TYPES[String(def.typeName)];
  if (simple) {
    row.type = simple;
    return;
  }
  switch (def.typeName) {
    case z.ZodFirstPartyTypeKind.ZodString:
      return describeString(def as z.ZodStringDef, row);
    case z.ZodFirstPartyTypeKind.ZodNumber:
      return describeNumber(def as z.ZodNumberDef, row);
    case z.ZodFirstPartyTypeKind.ZodBigInt:
      row.type = 'bigint';
      row.constraints.push(...range((def as z.ZodBigIntDef).checks));
      return;
    case z.ZodFirstPartyTypeKind.ZodDate: {
      row.type = 'date';
      row.constraints.push(...range((def as z.ZodDateDef).checks.map((c) => ({ ...c, value: new Date(c.value).toISOString(), inclusive: true }))));
      return;
    }
    case z.ZodFirstPartyTypeKind.ZodLiteral:
      row.type = 'literal';
      row.constraints.push(`= ${code(literal((def as z.ZodLiteralDef).value))}`);
      return;
    case z.ZodFirstPartyTypeKind.ZodEnum:
      row.type = 'enum';
      row.constraints.push(`one of ${(def as z.ZodEnumDef).values.map((v) => code(v)).join(', ')}`);
      return;
    case z.ZodFirstPartyTypeKind.ZodNativeEnum: {
      const values = (def as z.ZodNativeEnumDef).values;
      // A numeric TypeScript enum maps each value back to its name as well; those names are not values.
      const real = Object.keys(values)
        .filter((k) => typeof values[values[k]] !== 'number')
        .map((k) => values[k]);
      row.type = 'enum';
      row.constraints.push(`one of ${real.map((v) => code(literal(v))).join(', ')}`);
      return;
    }
    case z.ZodFirstPartyTypeKind.ZodObject:
      return describeObject(def as z.ZodObjectDef, row, children, ancestors);
    case z.ZodFirstPartyTypeKind.ZodArray: {
      const d = def as z.ZodArrayDef;
      row.constraints.push(...sizes('items', d.minLength?.value, d.maxLength?.value, d.exactLength?.value));
      return describeEach('array', d.type, `${row.path}[]`, row, children, ancestors);
    }
    case z.ZodFirstPartyTypeKind.ZodSet: {
      const d = def as z.ZodSetDef;
      row.constraints.push(...sizes('items', d.minSize?.value, d.maxSize?.value), 'no duplicates');
      return describeEach('set', d.valueType, `${row.path}[]`, row, children, ancestors);
    }
    case z.ZodFirstPartyTypeKind.ZodRecord:
    case z.ZodFirstPartyTypeKind.ZodMap: {
      const d = def as z.ZodRecordDef | z.ZodMapDef;
      const key = schemaFields(d.keyType)[0];
      if (key && (key.type !== 'string' || key.constraints.length > 0)) row.constraints.push(`keys: ${[key.type, ...key.constraints].join(', ')}`);
      return describeEach(def.typeName === z.ZodFirstPartyTypeKind.ZodMap ? 'map' : 'record', d.valueType, `${row.path}.*`, row, children, ancestors);
    }
    case z.ZodFirstPartyTypeKind.ZodTuple: {
      const d = def as z.ZodTupleDef<z.ZodTupleItems | [], ZodTypeAny | null>;
      row.type = d.rest ? 'tuple, then more items' : 'tuple';
      row.constraints.push(d.rest ? `at least ${d.items.length} items` : `exactly ${d.items.length} items`);
      d.items.forEach((item, i) => visit(item, `${row.path}[${i}]`, children, ancestors));
      if (d.rest) visit(d.rest, `${row.path}[${d.items.length}..]`, children, ancestors);
      return;
    }
    case z.ZodFirstPartyTypeKind.ZodDiscriminatedUnion: {
      const d = def as z.ZodDiscriminatedUnionDef<string>;
      const labelled = d.options.map((o): [string, ZodTypeAny] => {
        const values = [...d.optionsMap].filter(([, option]) => option === o).map(([value]) => String(value));
        return [`${d.discriminator}=${values.join('/')}`, o];
      });
      return describeOptions(labelled, `by ${code(d.discriminator)}`, row, children, ancestors);
    }
    case z.ZodFirstPartyTypeKind.ZodUnion: {
      const options = (def as z.ZodUnionDef).options as readonly ZodTypeAny[];
      return describeOptions(
        options.map((o, i): [string, ZodTypeAny] => [String(i + 1), o]),
        '',
        row,
        children,
        ancestors,
      );
    }
    case z.ZodFirstPartyTypeKind.ZodIntersection: {
      const d = def as z.ZodIntersectionDef;
      const sides = [d.left, d.right].map((side) => {
        const rows: SchemaField[] = [];
        visit(side, row.path, rows, ancestors);
        return rows;
      });
      row.type = `all of: ${sides.map((rows) => rows[0]?.type ?? '?').join(' & ')}`;
      for (const rows of sides) {
        row.constraints.push(...(rows[0]?.constraints ?? []));
        children.push(...rows.slice(1));
      }
      return;
    }
    default:
      row.type = typeof def.typeName === 'string' ? def.typeName : (s?.constructor?.name ?? 'unknown');
      row.constraints.push(`not described: unknown zod kind ${code(row.type)}`);
  }
}

/** Kinds with nothing more to say than their name. */
const SIMPLE_TYPES: Record<string, string> = {
  [z.ZodFirstPartyTypeKind.ZodBoolean]: 'boolean',
  [z.ZodFirstPartyTypeKind.ZodNull]: 'null',
  [z.ZodFirstPartyTypeKind.ZodUndefined]: 'undefined',
  [z.ZodFirstPartyTypeKind.ZodVoid]: 'void',
  [z.ZodFirstPartyTypeKind.ZodAny]: 'any',
  [z.ZodFirstPartyTypeKind.ZodUnknown]: 'unknown',
  [z.ZodFirstPartyTypeKind.ZodNever]: 'never',
  [z.ZodFirstPartyTypeKind.ZodNaN]: 'NaN',
  [z.ZodFirstPartyTypeKind.ZodSymbol]: 'symbol',
  [z.ZodFirstPartyTypeKind.ZodFunction]: 'function',
  [z.ZodFirstPartyTypeKind.ZodPromise]: 'promise',
};

/** Format names for the string checks that constrain what the text is rather than its length. */
const STRING_FORMATS: Record<string, string> = { datetime: 'date-time' };

function describeString(def: z.ZodStringDef, row: SchemaField): void {
  const formats: string[] = [];
  let min: number | undefined;
  let max: number | undefined;
  let exact: number | undefined;
  const rest: string[] = [];
  for (const c of def.checks) {
    switch (c.kind) {
      case 'min':
        min = Math.max(min ?? 0, c.value);
        break;
      case 'max':
        max = Math.min(max ?? Infinity, c.value);
        break;
      case 'length':
        exact = c.value;
        break;
      case 'regex':
        rest.push(`pattern ${code(c.regex.flags ? `/${c.regex.source}/${c.regex.flags}` : c.regex.source)}${c.message ? ` (${c.message})` : ''}`);
        break;
      case 'includes':
        rest.push(`contains ${code(literal(c.value))}`);
        break;
      case 'startsWith':
        rest.push(`starts with ${code(literal(c.value))}`);
        break;
      case 'endsWith':
        rest.push(`ends with ${code(literal(c.value))}`);
        break;
      case 'trim':
        rest.push('trimmed');
        break;
      case 'toLowerCase':
        rest.push('lower-cased');
        break;
      case 'toUpperCase':
        rest.push('upper-cased');
        break;
      case 'datetime':
        formats.push('date-time');
        rest.push(
          `ISO 8601${c.local ? ', local time allowed' : ''}${c.offset ? ', any UTC offset' : ', UTC (Z) only'}${c.precision === null ? '' : `, ${c.precision} fractional digits`}`,
        );
        break;
      case 'time':
        formats.push('time');
        if (c.precision !== null) rest.push(`${c.precision} fractional digits`);
        break;
      case 'ip':
      case 'cidr':
        formats.push(c.version ? `${c.kind} ${c.version}` : c.kind);
        break;
      default:
        formats.push(STRING_FORMATS[c.kind] ?? c.kind);
    }
  }
  row.type = formats.length > 0 ? `string (${formats.join(', ')})` : 'string';
  row.constraints.push(...sizes('length', min, max, exact), ...rest);
}

function describeNumber(def: z.ZodNumberDef, row: SchemaField): void {
  row.type = def.checks.some((c) => c.kind === 'int') ? 'integer' : 'number';
  row.constraints.push(...range(def.checks));
  for (const c of def.checks) {
    if (c.kind === 'multipleOf') row.constraints.push(`multiple of ${c.value}`);
    if (c.kind === 'finite') row.constraints.push('finite');
  }
}

function describeObject(def: z.ZodObjectDef, row: SchemaField, children: SchemaField[], ancestors: Map<ZodTypeAny, string>): void {
  row.type = 'object';
  const catchall = defOf(def.catchall).typeName === z.ZodFirstPartyTypeKind.ZodNever ? undefined : schemaFields(def.catchall)[0];
  if (catchall) row.constraints.push(`other keys: ${[catchall.type, ...catchall.constraints].join(', ')}`);
  else if (def.unknownKeys === 'strict') row.constraints.push('no other keys');
  else if (def.unknownKeys === 'passthrough') row.constraints.push('other keys kept');
  else row.constraints.push('other keys dropped');
  for (const [key, field] of Object.entries(def.shape())) visit(field, row.path === '' ? key : `${row.path}.${key}`, children, ancestors);
}

/**
 * An array, set, record or map: the type names its items' type, the items' own constraints
 * follow as "each: ...", and only what lies below an item (an object's fields) gets rows.
 */
function describeEach(kind: string, item: ZodTypeAny, itemPath: string, row: SchemaField, children: SchemaField[], ancestors: Map<ZodTypeAny, string>): void {
  const rows: SchemaField[] = [];
  visit(item, itemPath, rows, ancestors);
  const [first, ...below] = rows;
  row.type = `${kind} of ${first?.type ?? '?'}`;
  const each = [...(first && first.presence !== 'required' ? [first.presence] : []), ...(first?.constraints ?? [])];
  if (each.length > 0) row.constraints.push(`each: ${each.join(', ')}`);
  children.push(...below);
}

/**
 * Options of a union. When none has fields of its own, one row says it all (`string | null`);
 * otherwise each option gets its rows under `path{label}`.
 */
function describeOptions(options: [string, ZodTypeAny][], how: string, row: SchemaField, children: SchemaField[], ancestors: Map<ZodTypeAny, string>): void {
  const described = options.map(([label, o]) => {
    const rows: SchemaField[] = [];
    visit(o, `${row.path}{${label}}`, rows, ancestors);
    return rows;
  });
  if (described.every((rows) => rows.length === 1)) {
    const firsts = described.map((rows) => rows[0]);
    row.type = [...new Set(firsts.map((f) => f.type))].join(' | ');
    const constrained = firsts.filter((f) => f.constraints.length > 0);
    for (const f of constrained) row.constraints.push(constrained.length > 1 ? `${f.type}: ${f.constraints.join(', ')}` : f.constraints.join(', '));
    return;
  }
  row.type = `one of ${options.length} shapes${how ? `, ${how}` : ''}`;
  for (const rows of described) children.push(...rows);
}

function presenceOf(w: { optional: boolean; nullable: boolean }): Presence {
  if (w.optional && w.nullable) return 'optional, nullable';
  if (w.optional) return 'optional';
  if (w.nullable) return 'nullable';
  return 'required';
}

function customCheckNote(n: number): string[] {
  if (n === 0) return [];
  return [n === 1 ? 'custom check' : `${n} custom checks`];
}

/** Lower and upper bounds of numbers, bigints or dates, as `>= 0`, `< 1` or `range [0, 1)`. */
function range(checks: readonly { kind: string; value?: unknown; inclusive?: boolean }[]): string[] {
  let low: { value: unknown; inclusive: boolean } | undefined;
  let high: { value: unknown; inclusive: boolean } | undefined;
  for (const c of checks) {
    if (c.kind === 'min') low = { value: c.value, inclusive: c.inclusive ?? true };
    if (c.kind === 'max') high = { value: c.value, inclusive: c.inclusive ?? true };
  }
  if (low && high) return [`range ${low.inclusive ? '[' : '('}${String(low.value)}, ${String(high.value)}${high.inclusive ? ']' : ')'}`];
  if (low) return [`${low.inclusive ? '>=' : '>'} ${String(low.value)}`];
  if (high) return [`${high.inclusive ? '<=' : '<'} ${String(high.value)}`];
  return [];
}

/** `length 1..100`, `items <= 20`, `length = 5`. */
function sizes(what: string, min: number | undefined, max: number | undefined, exact?: number): string[] {
  if (exact !== undefined) return [`${what} = ${exact}`];
  if (min !== undefined && max !== undefined) return [`${what} ${min}..${max}`];
  if (min !== undefined) return [`${what} >= ${min}`];
  if (max !== undefined) return [`${what} <= ${max}`];
  return [];
}

function defOf(s: unknown): Def {
  const def = (s as { _def?: unknown } | null | undefined)?._def;
  return typeof def === 'object' && def !== null ? (def as Def) : {};
}

function literal(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? String(value);
}

/** A Markdown code span that survives backticks inside the text. */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return longest > 0 ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}
