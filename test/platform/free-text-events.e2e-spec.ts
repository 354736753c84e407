import request from 'supertest';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

// Issue 11, item 4: free text that enters an event (the log cannot be erased) passes the same
// Safe Harbor check as reports: refused with 400 naming the field and what was found, never the
// text, and nothing is appended. Answers are checked the same way (task.decider.unit.spec.ts).
describe('issue 11 item 4: free text entering events', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let token: string;
  const personal = 'Patient: Jane Roe, born 1950-02-28, MRN 8812345';

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    token = (await t.token(['steward', 'reviewer'])).token;
  });
  afterAll(() => t.close());

  const auth = () => ({ authorization: `Bearer ${token}` });
  const events = async () => Number((await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events'))[0].n);
  const refused = (res: request.Response, field: string, categories: RegExp) => {
    expect(res.status).toBe(400);
    // Ingestion names body fields `body.<field>`, annotation `<field>`.
    expect(res.body.fields).toEqual([expect.stringMatching(new RegExp(`^(body\\.)?${field.replace('.', '\\.')}$`))]);
    expect(res.body.message).toMatch(categories);
    expect(JSON.stringify(res.body)).not.toMatch(/Jane|Roe|1950|8812345/);
  };
  const project = (overrides: Record<string, unknown>) => ({
    name: 'chest x-ray findings',
    datasetId: 'cxr',
    datasetVersion: 1,
    taskType: 'classification',
    labels: ['normal', 'abnormal'],
    guidelines: 'Pick the label that fits the image.',
    annotationsPerItem: 1,
    agreementThreshold: 0.5,
    ...overrides,
  });

  it('refuses a dataset name, a project name, a label, guidelines and a review reason that identify someone, appending nothing', async () => {
    const before = await events();
    refused(await http.post('/ingestion/datasets').set(auth()).send({ name: personal }), 'name', /looks like personal data \(name, date, mrn\)/);
    refused(
      await http
        .post('/annotation/projects')
        .set(auth())
        .send(project({ name: 'Dr. Roe cases' })),
      'name',
      /\(name\)/,
    );
    refused(
      await http
        .post('/annotation/projects')
        .set(auth())
        .send(project({ labels: ['normal', 'seen 1950-02-28'] })),
      'labels.1',
      /\(date\)/,
    );
    refused(
      await http
        .post('/annotation/projects')
        .set(auth())
        .send(project({ guidelines: `Start with\n${personal}` })),
      'guidelines',
      /\(name, date, mrn\)/,
    );
    const review = await http
      .post(`/annotation/tasks/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/reviews`)
      .set(auth())
      .send({ assignmentId: `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, verdict: 'rejected', reason: `wrong side; ask ${personal}` });
    refused(review, 'reason', /\(name, date, mrn\)/);
    expect(await events()).toBe(before);
  });

  it('accepts the same kinds of text without identifiers', async () => {
    const res = await http
      .post('/ingestion/datasets')
      .set(auth())
      .send({ name: `cxr 2021 cohort ${Math.random().toString(36).slice(2, 8)}` });
    // A long digit run is some record number to the redactor: a timestamp in a name is refused too.
    const stamped = await http
      .post('/ingestion/datasets')
      .set(auth())
      .send({ name: `cxr-${Date.now()}` });
    expect(stamped.status).toBe(400);
    expect(res.status).toBe(201);
  });
});
