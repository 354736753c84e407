import type { AddressInfo } from 'node:net';
import { GRANTABLE_ROLES } from '@trellis/contracts';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { uniqueTitle } from '@trellis/testing';

/*
 * Issue 11, item 6 (input hygiene: no 500 from any input). Walks every operation of the OpenAPI
 * document, and the audit queries of the GraphQL schema, with a corpus of hostile values, as a
 * principal holding every role, and asserts for each request: no 500, an answer within the
 * per-request timeout, and no event appended when the answer is a 4xx. Bounded: a few thousand
 * requests, well under two minutes; the figures are printed at the end.
 */

const PER_REQUEST_TIMEOUT_MS = 10_000;
const MAX_REQUESTS = 5_000;

interface Sample {
  label: string;
  value: unknown;
}

const deep = (n: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

/** Hostile text: for path and query parameters, and every string field of a body. */
const TEXT: Sample[] = [
  { label: 'empty', value: '' },
  { label: 'blank', value: '   ' },
  { label: 'NUL', value: '\u0000' },
  { label: 'NUL inside', value: 'a\u0000b' },
  { label: 'lone high surrogate', value: '\uD800' },
  { label: 'lone low surrogate inside', value: 'x\uDFFFy' },
  { label: 'two high surrogates', value: '\uDBFF\uDBFF' },
  { label: 'C0 controls and escape', value: '\u0001\u0007\u001b[2J' },
  { label: 'line breaks', value: 'line\nbreak\r\n' },
  { label: 'DEL and C1 controls', value: '\u007F\u0085\u009F' },
  { label: 'bidi overrides', value: '\u202E\u2066rtl' },
  { label: 'BOM and noncharacter', value: '\uFEFF\uFFFF' },
  { label: 'SQL quote', value: "' OR '1'='1" },
  { label: 'SQL drop', value: "'; DROP TABLE trellis_events; --" },
  { label: 'placeholder', value: '$1' },
  { label: 'percent escapes', value: '%00%s%n' },
  { label: 'path traversal', value: '../../../../etc/passwd' },
  { label: 'markup', value: '<script>alert(1)</script>' },
  { label: 'date year 0', value: '0000-01-01' },
  { label: 'date 30 February', value: '1950-02-30' },
  { label: 'date-time year 0', value: '0000-01-01T00:00:00Z' },
  { label: 'date-time 30 February', value: '1950-02-30T00:00:00Z' },
  { label: 'date-time year 9999', value: '9999-12-31T23:59:59Z' },
  { label: 'negative number text', value: '-1' },
  { label: 'zero text', value: '0' },
  { label: 'huge number text', value: '99999999999999999999999' },
  { label: 'float overflow text', value: '1e308' },
  { label: 'NaN text', value: 'NaN' },
  { label: 'nil UUID', value: '00000000-0000-0000-0000-000000000000' },
  { label: 'uppercase max UUID', value: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' },
  { label: 'emoji', value: '😀'.repeat(40) },
  { label: 'long text (5,000)', value: 'A'.repeat(5_000) },
];

/** Hostile JSON values other than strings: for every body field and for whole bodies. */
const JSON_VALUES: Sample[] = [
  { label: 'negative', value: -1 },
  { label: 'zero', value: 0 },
  { label: 'huge', value: 1e308 },
  { label: 'huge negative', value: -1e308 },
  { label: 'int32 overflow', value: 2 ** 31 },
  { label: 'unsafe integer', value: 2 ** 53 + 2 },
  { label: 'fraction', value: 1.5 },
  { label: 'true', value: true },
  { label: 'null', value: null },
  { label: 'empty array', value: [] },
  { label: 'empty object', value: {} },
  { label: 'deep JSON (2,000)', value: deep(2_000) },
  { label: 'wide object (2,000 keys)', value: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i])) },
  { label: 'long array (10,000)', value: new Array(10_000).fill(0) },
  { label: 'long text (50,000)', value: 'B'.repeat(50_000) },
  { label: 'object with hostile key', value: { ['\u0000key']: 1, ['\uD800']: 2 } },
];

const pick = (samples: Sample[], labels: string[]) => samples.filter((s) => labels.includes(s.label));
/** For a string field: all hostile text, and a few values of the wrong type. */
const FOR_TEXT_FIELD = [...TEXT, ...pick(JSON_VALUES, ['huge', 'null', 'empty array', 'empty object', 'deep JSON (2,000)', 'long text (50,000)'])];
/** For any other field, and for a whole body: every hostile JSON value, and a few texts. */
const FOR_OTHER_FIELD = [...JSON_VALUES, ...pick(TEXT, ['empty', 'NUL inside', 'lone high surrogate', 'SQL quote', 'huge number text', 'date year 0'])];

/** Percent-encodes text for a URL, lone surrogates included (as their WTF-8 bytes, which are not UTF-8). */
function encodeComponent(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(s[i] + s[i + 1]);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(s[i]);
    }
  }
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document as /docs-json serves it
type Schema = any;

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  body?: { contentType: string; schema: Schema };
}

interface Finding {
  request: string;
  input: string;
  problem: string;
}

describe('item 6: input hygiene: no 500 from any input (fuzz)', () => {
  let t: PlatformTestApp;
  let base: string;
  let token: string;
  let doc: Schema;
  const seeds: Record<string, string> = {};
  const findings: Finding[] = [];
  let operationsFuzzed = 0;
  let inputsTried = 0;
  let graphqlInputs = 0;

  let principalId: string;
  const eventCount = async () => Number((await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events'))[0].n);
  /**
   * Events recorded as this suite's principal's: what a request appends carries its actor. The
   * database is shared, so the platform's consumers may meanwhile be catching up on what earlier
   * suites left (appending as services); those are not this request's doing.
   */
  const requestEventCount = async () =>
    Number((await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events WHERE actor_id = $1', [principalId]))[0].n);

  /** After a request that may have started work elsewhere (a consumer appending), waits until the log is still. */
  async function settledEventCount(): Promise<number> {
    let last = await eventCount();
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const now = await eventCount();
      if (now === last) return now;
      last = now;
    }
    return last;
  }

  /**
   * A refused upload is recorded on purpose: ASSET_REJECTED answers with an AssetRejected event,
   * the audit record of the refusal (IngestionErrorCode.AssetRejected). Nothing else may be.
   */
  async function recordedRejection(text: string, appended: number): Promise<boolean> {
    if (!/"error":"ASSET_REJECTED"/.test(text)) return false;
    const rows: { type: string }[] = await t.dataSource.query('SELECT type FROM trellis_events WHERE actor_id = $1 ORDER BY event_id DESC LIMIT $2', [
      principalId,
      appended,
    ]);
    return rows.every((r) => r.type === 'AssetRejected');
  }

  async function send(method: string, url: string, init: { body?: string | FormData | Buffer; contentType?: string } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(base + url, { method, headers, body: init.body, signal: AbortSignal.timeout(PER_REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, text };
  }

  /** One fuzzed request: no 500, an answer in time, and nothing appended on a 4xx. */
  async function attempt(request: string, input: string, run: () => Promise<{ status: number; text: string }>): Promise<void> {
    if (inputsTried >= MAX_REQUESTS) return;
    inputsTried += 1;
    const before = await requestEventCount();
    let res: { status: number; text: string };
    try {
      res = await run();
    } catch (err) {
      findings.push({ request, input, problem: `no answer: ${(err as Error).name}` });
      return;
    }
    if (res.status >= 500) {
      findings.push({ request, input, problem: `${res.status} ${res.text.slice(0, 200)}` });
    } else if (res.status >= 400) {
      const after = await requestEventCount();
      if (after !== before && !(await recordedRejection(res.text, after - before))) {
        findings.push({ request, input, problem: `${res.status} but ${after - before} event(s) appended` });
      }
    } else {
      await settledEventCount();
    }
  }

  const resolve = (schema: Schema): Schema => {
    if (schema?.$ref) return resolve(doc.components.schemas[schema.$ref.split('/').pop()]);
    if (schema?.oneOf) return resolve(schema.oneOf[0]);
    if (schema?.allOf) return Object.assign({}, ...schema.allOf.map(resolve));
    return schema ?? {};
  };

  /** A plausible value for a schema, so that one field at a time can be made hostile. */
  function plausible(schema: Schema, depth = 0): unknown {
    const s = resolve(schema);
    if (s.example !== undefined) return s.example;
    if (s.default !== undefined) return s.default;
    if (s.enum) return s.enum[0];
    switch (s.type) {
      case 'string':
        if (s.format === 'uuid') return seeds.subjectId;
        if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
        if (s.format === 'date') return '1970-01-31';
        if (s.format === 'binary') return 'fuzz';
        return 'fuzz';
      case 'integer':
      case 'number':
        return s.minimum ?? 1;
      case 'boolean':
        return false;
      case 'array':
        return depth > 3 ? [] : [plausible(s.items, depth + 1)];
      default: {
        if (depth > 3 || !s.properties) return {};
        // Required fields, and optional ones the document gives a value for: an invented value for
        // another optional field (a hash, say) would make every request a 400 for that field alone.
        const required: string[] = s.required ?? [];
        const known = (v: Schema) => ['example', 'enum', 'default'].some((k) => resolve(v)[k] !== undefined);
        return Object.fromEntries(
          Object.entries<Schema>(s.properties)
            .filter(([k, v]) => required.includes(k) || known(v))
            .map(([k, v]) => [k, plausible(v, depth + 1)]),
        );
      }
    }
  }

  /** The paths of a body's fields and their types, nested objects' fields included (two levels). */
  function fieldPaths(schema: Schema, prefix: string[] = []): { path: string[]; type: string }[] {
    const s = resolve(schema);
    if (!s.properties || prefix.length >= 2) return [];
    return Object.entries(s.properties).flatMap(([k, v]) => [{ path: [...prefix, k], type: String(resolve(v).type) }, ...fieldPaths(v, [...prefix, k])]);
  }

  const withField = (body: unknown, path: string[], value: unknown): unknown => {
    const copy = structuredClone(body) as Record<string, unknown>;
    let node = copy;
    for (const k of path.slice(0, -1)) {
      if (typeof node[k] !== 'object' || node[k] === null || Array.isArray(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
    return copy;
  };

  /** A valid-looking value for a path parameter, from the records made before the run. */
  const seedFor = (op: Operation, name: string): string => {
    if (/version|^n$/i.test(name)) return '1';
    if (name === 'ref') return op.path.startsWith('/ingestion/datasets') ? seeds.datasetId : seeds.subjectId;
    return seeds[name] ?? '00000000-0000-4000-8000-000000000000';
  };

  const urlOf = (op: Operation, params: Record<string, string>, query: Record<string, string> = {}) => {
    let url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeComponent(params[name] ?? seedFor(op, name)));
    const q = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeComponent(v)}`);
    if (q.length) url += `?${q.join('&')}`;
    return url;
  };

  const jsonBody = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' });

  beforeAll(async () => {
    t = await startPlatformTestApp();
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ token, principalId } = await t.token([...GRANTABLE_ROLES]));
    doc = JSON.parse((await send('GET', '/docs-json')).text);
    // Real records, so that path parameters can name something that exists while one of them is hostile.
    const subject = JSON.parse((await send('POST', '/ingestion/subjects', jsonBody({ externalRef: `fuzz-${Date.now()}`, name: 'Fuzz Subject' }))).text);
    seeds.subjectId = subject.subjectId;
    const consent = JSON.parse(
      (await send('POST', `/ingestion/subjects/${subject.subjectId}/consents`, jsonBody({ decision: 'permit', purposes: ['model-training'] }))).text,
    );
    seeds.consentId = consent.consentId;
    const dataset = JSON.parse((await send('POST', '/ingestion/datasets', jsonBody({ name: uniqueTitle('fuzz') }))).text);
    seeds.datasetId = dataset.datasetId ?? dataset.id;
    seeds.principalId = 'fuzz-principal';
    // The seeding requests' events are found by their actor: the count each request compares sees what requests append.
    expect(await requestEventCount()).toBeGreaterThanOrEqual(3);
  });

  afterAll(async () => {
    const fiveHundreds = findings.filter((f) => /^5\d\d/.test(f.problem));
    console.log(
      `openapi fuzz: ${operationsFuzzed} operations fuzzed, ${inputsTried} inputs tried (${graphqlInputs} of them GraphQL), ${fiveHundreds.length} 500s found` +
        (inputsTried >= MAX_REQUESTS ? ` (stopped at the limit of ${MAX_REQUESTS})` : ''),
    );
    // One line per request and problem, so that a failure reads as a list of things to fix.
    const grouped = new Map<string, string[]>();
    for (const f of findings)
      grouped.set(`${f.request}: ${f.problem.slice(0, 160)}`, [...(grouped.get(`${f.request}: ${f.problem.slice(0, 160)}`) ?? []), f.input]);
    for (const [what, inputs] of grouped) console.log(`  ${what} <- ${inputs.join(', ')}`);
    await t?.close();
  });

  it('answers every REST operation with hostile path, query and body values without a 500, a hang or an event on a 4xx', async () => {
    const operations: Operation[] = [];
    for (const [path, item] of Object.entries<Schema>(doc.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        const params: Schema[] = [...(item.parameters ?? []), ...(op.parameters ?? [])];
        const content = op.requestBody?.content ?? {};
        const contentType = ['application/json', 'multipart/form-data', 'application/octet-stream'].find((c) => content[c]) ?? Object.keys(content)[0];
        operations.push({
          method: method.toUpperCase(),
          path,
          pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
          queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
          body: contentType ? { contentType, schema: content[contentType].schema ?? {} } : undefined,
        });
      }
    }
    expect(operations.length).toBeGreaterThan(20);

    for (const op of operations) {
      operationsFuzzed += 1;
      const name = `${op.method} ${op.path}`;
      const plausibleBody = op.body?.contentType === 'application/json' ? plausible(op.body.schema) : undefined;
      const bodyInit = () => (op.body?.contentType === 'application/json' ? jsonBody(plausibleBody) : {});

      for (const param of op.pathParams) {
        for (const s of TEXT) await attempt(`${name} path ${param}`, s.label, () => send(op.method, urlOf(op, { [param]: s.value as string }), bodyInit()));
      }
      for (const param of op.queryParams) {
        for (const s of TEXT)
          await attempt(`${name} query ${param}`, s.label, () => send(op.method, urlOf(op, {}, { [param]: s.value as string }), bodyInit()));
      }
      if (!op.body) continue;

      if (op.body.contentType === 'application/json') {
        for (const s of FOR_OTHER_FIELD) await attempt(`${name} body`, s.label, () => send(op.method, urlOf(op, {}), jsonBody(s.value)));
        await attempt(`${name} body`, 'not JSON', () => send(op.method, urlOf(op, {}), { body: '{"a": \u0000', contentType: 'application/json' }));
        for (const { path, type } of fieldPaths(op.body.schema)) {
          for (const s of type === 'string' ? FOR_TEXT_FIELD : FOR_OTHER_FIELD) {
            await attempt(`${name} body.${path.join('.')}`, s.label, () => send(op.method, urlOf(op, {}), jsonBody(withField(plausibleBody, path, s.value))));
          }
        }
      } else if (op.body.contentType === 'multipart/form-data') {
        const schema = resolve(op.body.schema);
        const fields = Object.entries<Schema>(schema.properties ?? {});
        const form = (hostile?: { field: string; value: string }) => {
          const f = new FormData();
          for (const [k, v] of fields) {
            const s = resolve(v);
            if (s.format === 'binary') f.append(k, new Blob([Buffer.from('fuzz')]), 'fuzz.png');
            else f.append(k, hostile?.field === k ? hostile.value : String(plausible(s)));
          }
          return f;
        };
        for (const [field, v] of fields) {
          if (resolve(v).format === 'binary') continue;
          for (const s of TEXT)
            await attempt(`${name} form ${field}`, s.label, () => send(op.method, urlOf(op, {}), { body: form({ field, value: s.value as string }) }));
        }
      } else {
        for (const [label, bytes] of [
          ['empty bytes', Buffer.alloc(0)],
          ['NUL bytes', Buffer.alloc(1024)],
          ['invalid UTF-8', Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xfe])],
          ['deep JSON bytes', Buffer.from(JSON.stringify(deep(2_000)))],
        ] as const) {
          await attempt(`${name} body`, label, () => send(op.method, urlOf(op, {}), { body: bytes, contentType: op.body!.contentType }));
        }
      }
    }

    expect(findings.map((f) => `${f.request} <- ${f.input}: ${f.problem.slice(0, 120)}`)).toEqual([]);
  }, 100_000);

  it('answers the GraphQL audit queries with hostile arguments without an internal error or a 500', async () => {
    const queries = [
      'query($log: String!) { verifyEventLog(log: $log) { log ok checked brokenAt } }',
      'query($log: String!, $after: Int, $first: Int) { eventLog(log: $log, after: $after, first: $first) { position hash } }',
    ];
    const ints: unknown[] = [-1, 0, 1, 1000, 1001, 2 ** 31 - 1, 2 ** 31, 1e308, -1e308, 1.5, '1', null, true, [], {}];
    const graphql = (query: string, variables: Record<string, unknown>) => send('POST', '/graphql', jsonBody({ query, variables }));
    const internal = (text: string) => /INTERNAL_SERVER_ERROR/.test(text);

    const run = async (label: string, query: string, variables: Record<string, unknown>) => {
      graphqlInputs += 1;
      await attempt(`GraphQL ${query.slice(0, 40)}`, label, async () => {
        const res = await graphql(query, variables);
        return internal(res.text) ? { status: 500, text: res.text } : res;
      });
    };
    const earlier = findings.length;
    operationsFuzzed += 3;
    for (const s of [...TEXT, ...JSON_VALUES]) {
      for (const q of queries) await run(`log ${s.label}`, q, { log: s.value });
    }
    for (const v of ints) {
      await run(`after ${JSON.stringify(v)}`, queries[1], { log: 'ingestion', after: v, first: 10 });
      await run(`first ${JSON.stringify(v)}`, queries[1], { log: 'ingestion', after: 0, first: v });
    }
    await run('eventLogs', '{ eventLogs { log position } }', {});
    await run('a string inlined with an escaped NUL', '{ verifyEventLog(log: "a\\u0000b") { ok } }', {});
    await run('a huge literal', `{ eventLog(log: "ingestion", first: 99999999999999999999) { position } }`, {});

    expect(findings.slice(earlier).map((f) => `${f.request} <- ${f.input}: ${f.problem.slice(0, 120)}`)).toEqual([]);
  }, 20_000);
});
