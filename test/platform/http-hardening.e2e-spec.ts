import request from 'supertest';
import { startPlatformTestApp, PlatformTestApp } from './platform-test-app';

// Issue 11, item 7: GraphQL and HTTP hardening, on the whole platform.
describe('HTTP and GraphQL hardening', () => {
  let platform: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let auditor: string;

  beforeAll(async () => {
    platform = await startPlatformTestApp();
    http = request(platform.app.getHttpServer());
    auditor = (await platform.token(['auditor'])).token;
  });
  afterAll(() => platform.close());

  const gql = (query: string, token?: string) => {
    const req = http.post('/graphql').send({ query });
    return token ? req.set('authorization', `Bearer ${token}`) : req;
  };

  it('sends security headers and no X-Powered-By on every route', async () => {
    for (const path of ['/health', '/docs-json', '/no-such-route']) {
      const res = await http.get(path);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('never sends stack traces or server paths in GraphQL errors, to anyone', async () => {
    for (const res of [
      await gql('{ eventLog(log: "auth", first: 0) { position } }', auditor),
      await gql('{ eventLogs { log } }'),
      await gql('{ nope }', auditor),
    ]) {
      const text = JSON.stringify(res.body);
      expect(res.body.errors?.length).toBeGreaterThan(0);
      expect(text).not.toMatch(/stacktrace|node_modules|\/work\/|\.ts:\d+/);
    }
  });

  it('answers introspection only with a token', async () => {
    const anon = await gql('{ __schema { queryType { name } } }');
    expect(anon.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INTROSPECTION_NEEDS_TOKEN' });
    expect(anon.body.data).toBeUndefined();
    const typed = await gql('{ __type(name: "Query") { name } }');
    expect(typed.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const withToken = await gql('{ __schema { queryType { name } } }', auditor);
    expect(withToken.body.data.__schema.queryType.name).toBe('Query');
  });

  it('refuses 200 aliased root fields before running any of them', async () => {
    const aliases = Array.from({ length: 200 }, (_, i) => `v${i}: verifyEventLog(log: "auth") { ok }`).join(' ');
    const res = await gql(`{ ${aliases} }`, auditor);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', error: 'QUERY_TOO_COSTLY', reason: 'TOO_MANY_ROOT_FIELDS' });
    expect(res.body.data).toBeUndefined();
  });

  it('refuses an over-deep query before running it (introspection nests as deep as anyone asks)', async () => {
    const nested = (depth: number) => `{ __schema { types { fields { type { ${'ofType { '.repeat(depth)}name${' }'.repeat(depth)} } } } } }`;
    const res = await gql(nested(10), auditor);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ message: 'fields may nest at most 12 deep', extensions: { error: 'QUERY_TOO_COSTLY', reason: 'TOO_DEEP' } });
    expect((await gql(nested(6), auditor)).body.errors).toBeUndefined();
  });

  it('refuses pages whose total would be too large, counting aliases, and allows a reasonable query', async () => {
    const aliases = Array.from(
      { length: 19 },
      (_, i) => `p${i}: eventLog(log: "auth", first: 1000) { position type data hash prevHash actorId actorRole occurredAt }`,
    ).join(' ');
    const res = await gql(`{ ${aliases} }`, auditor);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions).toMatchObject({ reason: 'TOO_COSTLY' });
    const ok = await gql('{ eventLogs { log position } a: eventLog(log: "auth", first: 100) { position } }', auditor);
    expect(ok.body.errors).toBeUndefined();
    expect(Array.isArray(ok.body.data.a)).toBe(true);
  });
});
