import request from 'supertest';
import { eventually, uniqueName } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { Http, ok, publishSyntheticSets, PublishedSets } from '../trainer/trainer-fixture';

const LONG = 20 * 60_000;

interface Node {
  id: string;
  type: string;
  states: string;
  attrs: string;
}

/**
 * The lineage graph end to end over Kafka: after ingest, annotate, train, register, evaluate and
 * promote, GraphQL answers where the champion came from (every asset, subject and consent), what
 * a subject's data reached, as of a moment before the promotion and after a withdrawal.
 */
describe('Lineage graph end to end', () => {
  let t: PlatformTestApp;
  let http: Http;
  const tokens: Record<string, string> = {};
  const principals: Record<string, string> = {};
  let training: PublishedSets;
  let heldOut: PublishedSets;
  let modelVersionId: string;
  let runId: string;
  let beforePromotion: string;
  let beforeWithdrawal: string;
  const modelName = uniqueName('lineage-model');

  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  async function gql<T>(who: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const res = await http.post('/graphql').set(as(who)).send({ query, variables });
    if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
    return res.body.data as T;
  }
  const states = (n: Node) => JSON.parse(n.states) as Record<string, unknown>;

  beforeAll(async () => {
    Object.assign(process.env, { TRAINER_POLL_MS: '200', REGISTRY_EVALUATION_POLL_MS: '200' });
    t = await startPlatformTestApp('kafka');
    http = request(t.app.getHttpServer());
    for (const [name, roles] of Object.entries({ steward: ['steward'], engineer: ['engineer'], approver: ['approver'], auditor: ['auditor'] })) {
      const issued = await t.token(roles);
      tokens[name] = issued.token;
      principals[name] = issued.principalId;
    }
    training = await publishSyntheticSets(http, tokens.steward, { seed: 31, subjects: 3, itemsPerSubject: 2 });
    heldOut = await publishSyntheticSets(http, tokens.steward, { seed: 32, subjects: 2, itemsPerSubject: 1 });
    const base = ok(await http.post('/training/base-models').set(as('engineer')).send({ preset: 'tiny', seed: 1 }), 201);
    await eventually(
      async () => (await t.dataSource.query('SELECT 1 FROM registry_annotation_sets WHERE set_id = $1', [heldOut.captionSetId])).length === 1,
      120_000,
      250,
    );
    await eventually(
      async () => (await t.dataSource.query('SELECT 1 FROM trainer_annotation_sets WHERE set_id = $1', [training.captionSetId])).length === 1,
      120_000,
      250,
    );
    ok(
      await http
        .post('/training/runs')
        .set(as('engineer'))
        .send({
          baseModelId: base.baseModelId,
          method: 'lora',
          modelName,
          annotationSets: [{ setId: training.captionSetId }],
          evaluation: { heldOutFraction: 0.3 },
          hyperparameters: { steps: 2, evalEvery: 2, checkpointEvery: 2 },
        }),
      201,
    );
    const version = await eventually(
      async () => {
        const res = await http.get(`/registry/models/${modelName}/versions/1`).set(as('engineer'));
        return res.status === 200 ? res.body : undefined;
      },
      LONG,
      500,
    );
    modelVersionId = version.modelVersionId;
    runId = version.source.runId;
    const evaluation = ok(
      await http
        .post('/registry/evaluations')
        .set(as('engineer'))
        .send({ model: modelName, version: 1, annotationSet: { setId: heldOut.captionSetId }, maxNewTokens: 8 }),
      201,
    );
    await eventually(async () => ok(await http.get(`/registry/evaluations/${evaluation.evaluationId}`).set(as('engineer'))).status === 'completed', LONG, 500);
    ok(await http.put(`/registry/models/${modelName}/versions/1/card`).set(as('engineer')).send({ intendedUse: 'Tests.', caveats: 'Tiny.', license: 'mit' }));
    beforePromotion = new Date().toISOString();
    const promotion = ok(
      await http.post('/registry/promotions').set(as('engineer')).send({ model: modelName, version: 1, alias: 'champion', reason: 'first' }),
      201,
    );
    ok(await http.post(`/registry/promotions/${promotion.promotionId}/approve`).set(as('approver')).send({ comment: 'ok' }));
    // The lineage consumer hears the registry over Kafka: wait until the champion is in the graph.
    await eventually(
      async () => {
        const { node } = await gql<{ node: Node | null }>('auditor', 'query ($id: ID!) { node(id: $id) { id type states attrs } }', {
          id: `model-version:${modelVersionId}`,
        });
        return node && 'alias:champion' in states(node);
      },
      120_000,
      250,
    );
  }, LONG);

  afterAll(async () => {
    await t?.close();
  });

  const PROVENANCE = `query ($id: ID!, $asOf: String) { modelProvenance(modelVersionId: $id, asOf: $asOf) {
    modelVersion { id states } training { id } requestedBy snapshot { id attrs } annotationSets { id } annotators datasetVersions { id }
    assets subjects consents deidentification { method assets } evaluations { id } promotions { id } approvers restsOn { log events positions } } }`;

  it('answers where the champion came from: every asset, subject and consent, the people and the events it rests on', async () => {
    const { modelProvenance: p } = await gql<{ modelProvenance: Record<string, never> }>('auditor', PROVENANCE, { id: modelVersionId });
    const snapshot = JSON.parse((p.snapshot as { attrs: string }).attrs) as { includedItems: number; includedSubjects: number };
    expect(p.assets).toBe(snapshot.includedItems);
    expect(snapshot.includedItems).toBe(6);
    expect(p.subjects).toBe(3);
    // One consent recorded per subject by the fixture.
    expect(p.consents).toBe(3);
    expect(p.annotationSets).toEqual([{ id: `annotation-set:${training.captionSetId}` }]);
    expect(p.datasetVersions).toHaveLength(1);
    expect(p.deidentification).toEqual([{ method: 'none', assets: 6 }]);
    expect(p.requestedBy).toEqual([principals.engineer]);
    expect(p.approvers).toEqual([principals.approver]);
    expect(p.evaluations).toHaveLength(1);
    expect(p.promotions).toHaveLength(1);
    expect((p.restsOn as { log: string }[]).map((r) => r.log)).toEqual(['annotation', 'ingestion', 'registry', 'trainer']);
    // Each position it names holds an event of that log.
    for (const r of p.restsOn as { log: string; events: number; positions: number[] }[]) {
      expect(r.positions).toHaveLength(r.events);
      const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events WHERE log = $1 AND position = ANY($2::bigint[])', [
        r.log,
        r.positions,
      ]);
      expect(n).toBe(r.events);
    }
  });

  it('walks upstream from the champion to the subjects, and as of before the promotion shows no alias', async () => {
    const { lineage } = await gql<{ lineage: { nodes: Node[]; truncated: boolean } }>(
      'auditor',
      'query ($id: ID!) { lineage(id: $id, direction: UPSTREAM, depth: 6) { nodes { id type states attrs } truncated } }',
      { id: `model-version:${modelVersionId}` },
    );
    const subjects = lineage.nodes.filter((n) => n.type === 'subject').map((n) => n.id.replace('subject:', ''));
    expect(subjects.sort()).toEqual(training.subjects.map((s) => s.subjectId).sort());
    expect(lineage.truncated).toBe(false);
    const before = await gql<{ modelProvenance: { modelVersion: Node } }>('auditor', PROVENANCE, { id: modelVersionId, asOf: beforePromotion });
    expect(states(before.modelProvenance.modelVersion)).not.toHaveProperty('alias:champion');
    const now = await gql<{ modelProvenance: { modelVersion: Node } }>('auditor', PROVENANCE, { id: modelVersionId });
    expect(states(now.modelProvenance.modelVersion)).toMatchObject({ 'alias:champion': { kind: 'promotion', by: principals.approver } });
  });

  it("lists the champion in a training subject's consent impact, and shows it flagged from the withdrawal on", async () => {
    const subject = training.subjects[0];
    const IMPACT =
      'query ($id: ID!, $asOf: String) { consentImpact(subjectId: $id, asOf: $asOf) { assets { id } snapshots { id } trainingRuns { id } modelVersions { id states } } }';
    const impact = await gql<{ consentImpact: { assets: Node[]; modelVersions: Node[]; snapshots: Node[] } }>('auditor', IMPACT, { id: subject.subjectId });
    expect(impact.consentImpact.modelVersions.map((v) => v.id)).toContain(`model-version:${modelVersionId}`);
    expect(impact.consentImpact.assets).toHaveLength(4); // two images, raw and curated
    beforeWithdrawal = new Date().toISOString();
    ok(
      await http
        .post(`/ingestion/subjects/${subject.subjectId}/consents/${subject.consentId}/withdraw`)
        .set(as('steward'))
        .send({ purposes: ['model-training'] }),
    );
    const flagged = await eventually(
      async () => {
        const r = await gql<{ consentImpact: { modelVersions: Node[] } }>('auditor', IMPACT, { id: subject.subjectId });
        const v = r.consentImpact.modelVersions.find((m) => m.id === `model-version:${modelVersionId}`)!;
        return 'flag:consent-withdrawn' in states(v) ? v : undefined;
      },
      120_000,
      250,
    );
    expect(states(flagged)['flag:consent-withdrawn']).toEqual({ subjects: 1, items: 2 });
    const earlier = await gql<{ consentImpact: { modelVersions: Node[] } }>('auditor', IMPACT, { id: subject.subjectId, asOf: beforeWithdrawal });
    expect(states(earlier.consentImpact.modelVersions.find((m) => m.id === `model-version:${modelVersionId}`)!)).not.toHaveProperty('flag:consent-withdrawn');
    // A flagged champion degrades /health for every suite sharing this database: take it off.
    await eventually(async () => (await http.get(`/registry/models/${modelName}/versions/1`).set(as('engineer'))).body.flag !== null, 60_000, 250);
    ok(await http.post(`/registry/models/${modelName}/aliases/champion/demote`).set(as('approver')).send({ reason: 'consent withdrawn' }));
  });

  it('serves the run as OpenLineage events with consent coverage and de-identification facets', async () => {
    const events: { eventType: string; run: { runId: string; facets: Record<string, Record<string, unknown>> } }[] = [];
    for (let after = 0; ;) {
      const page = ok(await http.get(`/lineage/openlineage/runs?after=${after}&limit=1000`).set(as('auditor')));
      events.push(...page.events.filter((e: { run: { runId: string } }) => e.run.runId === runId));
      if (page.next === null) break;
      after = page.next;
    }
    expect([events[0]?.eventType, events.at(-1)?.eventType]).toEqual(['START', 'COMPLETE']);
    const complete = events.at(-1)!.run.facets;
    expect(complete.trellis_consentCoverage).toMatchObject({
      includedItems: 6,
      includedSubjects: 3,
      excludedItems: 0,
      _schemaURL: expect.stringContaining('TrellisConsentCoverageRunFacet'),
    });
    expect(complete.trellis_deidentification).toMatchObject({ methods: [{ method: 'none', assets: 6 }] });
    const bad = await http.get('/lineage/openlineage/runs?limit=0').set(as('auditor'));
    expect([bad.status, bad.body.fields]).toEqual([400, ['query.limit']]);
    expect((await http.get('/lineage/openlineage/runs').set(as('steward'))).status).toBe(403);
  });

  it('refuses an over-deep walk and an unknown node with clear errors', async () => {
    const deep = await http.post('/graphql').set(as('auditor')).send({ query: 'query { lineage(id: "subject:x", depth: 50) { truncated } }' });
    expect(deep.body.errors[0]).toMatchObject({ message: 'depth must be between 1 and 10', extensions: { code: 'BAD_USER_INPUT' } });
    const unknown = await http
      .post('/graphql')
      .set(as('auditor'))
      .send({ query: 'query { lineage(id: "subject:01950000-0000-7000-8000-000000000000") { truncated } }' });
    expect(unknown.body.errors[0].extensions.code).toBe('NOT_FOUND');
  });
});
