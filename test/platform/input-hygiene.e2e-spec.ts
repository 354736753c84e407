import request from 'supertest';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

// Issue 11, item 6: input hygiene, no 500 from any input. The cases the probe found, one by one;
// test/fuzz/openapi-fuzz.e2e-spec.ts walks every operation.
describe('item 6: input hygiene: no 500 from any input', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let token: string;

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    token = (await t.token(['steward', 'annotator', 'admin'])).token;
  });
  afterAll(() => t.close());

  const auth = () => ({ authorization: `Bearer ${token}` });
  const events = async () => Number((await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events'))[0].n);
  const refused = async (res: request.Response, field: string) => {
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual(expect.arrayContaining([field]));
    expect(JSON.stringify(res.body)).not.toMatch(/Jane|\\u0000|\\ud800/i);
  };

  it('refuses NUL bytes and lone surrogates in a dataset name, an external reference and a token label with 400 naming the field', async () => {
    const before = await events();
    for (const bad of ['Jane\u0000Doe', 'Jane\uD800', 'Jane\uDC00Doe']) {
      await refused(await http.post('/ingestion/datasets').set(auth()).send({ name: bad }), 'name');
      await refused(await http.post('/ingestion/subjects').set(auth()).send({ externalRef: bad }), 'externalRef');
      await refused(
        await http
          .post('/auth/tokens')
          .set(auth())
          .send({ label: bad, roles: ['steward'] }),
        'label',
      );
      await refused(await http.post('/ingestion/subjects').set(auth()).send({ externalRef: 'ok', name: bad }), 'name');
    }
    await refused(await http.post('/ingestion/datasets').set(auth()).send({ name: 'tab\there' }), 'name');
    await refused(await http.get('/ingestion/datasets/a%00b').set(auth()), 'ref');
    // Not UTF-8 at all (a lone surrogate's bytes): Express refuses it; the answer must not quote it.
    const undecodable = await http.get('/ingestion/subjects/Jane%ED%A0%80b').set(auth());
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.message).toBe('a path parameter is not valid percent-encoded UTF-8');
    const notJson = await http
      .post('/ingestion/datasets')
      .set({ ...auth(), 'content-type': 'application/json' })
      .send('{"name": "Jane\u0000');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toBe('the body is not valid JSON');
    expect(await events()).toBe(before);
  });

  it('refuses a consent period starting 0000-01-01 or on 30 February, and a birth date 1950-02-30, with 400 naming the field', async () => {
    const subject = await http
      .post('/ingestion/subjects')
      .set(auth())
      .send({ externalRef: `item6-${Date.now()}`, birthDate: '1950-02-28' });
    expect(subject.status).toBe(201);
    const before = await events();
    const consent = (period: object) =>
      http
        .post(`/ingestion/subjects/${subject.body.subjectId}/consents`)
        .set(auth())
        .send({ decision: 'permit', purposes: ['research'], period });
    await refused(await consent({ start: '0000-01-01T00:00:00Z' }), 'period.start');
    await refused(await consent({ end: '1950-02-30T00:00:00Z' }), 'period.end');
    await refused(await consent({ start: '9999-12-31T23:59:59Z' }), 'period.start');
    const fhir = await http
      .post(`/ingestion/subjects/${subject.body.subjectId}/consents`)
      .set(auth())
      .send({
        resourceType: 'Consent',
        status: 'active',
        decision: 'permit',
        period: { start: '0000-01-01' },
        provision: [{ purpose: [{ code: 'research' }] }],
      });
    expect(fhir.status).toBe(400);
    for (const birthDate of ['1950-02-30', '2023-02-29', '0000-01-01', '1961-13-01']) {
      await refused(
        await http
          .post('/ingestion/subjects')
          .set(auth())
          .send({ externalRef: `item6-b-${Date.now()}`, birthDate }),
        'birthDate',
      );
    }
    expect(await events()).toBe(before);
  });

  it('refuses JSON nested deeper than 32 levels with 400 instead of recursing', async () => {
    const deep = `{"name": ${'['.repeat(5_000)}"x"${']'.repeat(5_000)}}`;
    const res = await http
      .post('/ingestion/datasets')
      .set({ ...auth(), 'content-type': 'application/json' })
      .send(deep);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('TOO_DEEP');
  });
});
