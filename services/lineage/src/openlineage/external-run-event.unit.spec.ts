import { parseExternalRunEvent } from './external-run-event';

const event = (over: Record<string, unknown> = {}) => ({
  eventType: 'START',
  eventTime: '2026-12-04T10:00:00.000Z',
  producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/airflow',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: '01950000-0000-7000-8000-000000000001', facets: { nominalTime: { nominalStartTime: '2026-12-04T00:00:00Z' } } },
  job: { namespace: 'airflow://prod', name: 'dag.task' },
  inputs: [{ namespace: 'postgres://db:5432', name: 'public.studies', facets: {} }],
  ...over,
});

describe('parseExternalRunEvent', () => {
  it('accepts a RunEvent as OpenLineage clients send it, facets and unknown fields kept', () => {
    const parsed = parseExternalRunEvent(event());
    expect(parsed).toMatchObject({ ok: true, event: { job: { name: 'dag.task' }, run: { facets: { nominalTime: {} } } } });
    // eventType may be left out (OpenLineage: OTHER events carry extra metadata).
    expect(parseExternalRunEvent(event({ eventType: undefined })).ok).toBe(true);
  });

  it('refuses what the lineage cannot read, naming the fields and never repeating a value', () => {
    const secret = 'Jane Roe 1950-02-28';
    const bad = parseExternalRunEvent(event({ eventType: secret, eventTime: 'yesterday', run: {}, job: { namespace: 'ns', name: '' }, producer: secret }));
    expect(bad).toMatchObject({ ok: false, fields: ['body.eventType', 'body.eventTime', 'body.producer', 'body.run.runId', 'body.job.name'] });
    expect(!bad.ok && bad.message).toMatch(/body\.eventType: must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER/);
    expect(!bad.ok && bad.message).toMatch(/body\.run\.runId: is required/);
    expect(JSON.stringify(bad)).not.toMatch(/Jane|1950|yesterday/);
    expect(parseExternalRunEvent(event({ inputs: Array.from({ length: 101 }, () => ({ namespace: 'a', name: 'b' })) }))).toMatchObject({
      ok: false,
      fields: ['body.inputs'],
    });
    expect(parseExternalRunEvent(event({ job: { namespace: 'ns', name: 'a\u0000b' } }))).toMatchObject({ ok: false, fields: ['body.job.name'] });
    expect(parseExternalRunEvent(event({ job: { namespace: 'ns', name: 'x'.repeat(1001) } }))).toMatchObject({ ok: false, fields: ['body.job.name'] });
  });

  it('refuses a DatasetEvent, a JobEvent and a body that is not an object by name', () => {
    expect(parseExternalRunEvent({ eventTime: '2026-12-04T10:00:00Z', dataset: { namespace: 'a', name: 'b' } })).toMatchObject({
      ok: false,
      fields: ['body.run'],
      message: expect.stringMatching(/only OpenLineage RunEvents/),
    });
    expect(parseExternalRunEvent({ eventTime: '2026-12-04T10:00:00Z', job: { namespace: 'a', name: 'b' } })).toMatchObject({ ok: false, fields: ['body.run'] });
    expect(parseExternalRunEvent([event()])).toMatchObject({ ok: false, fields: ['body'] });
    expect(parseExternalRunEvent(null)).toMatchObject({ ok: false, fields: ['body'] });
  });
});
