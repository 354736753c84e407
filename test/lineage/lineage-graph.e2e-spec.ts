import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { createObjectStorageFromEnv } from '@trellis/storage';
import { eventually, uniqueName } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { coreErrors, schemas as openLineageSchemas } from '../../services/trainer/src/openlineage/openlineage-schema.fixture';
import { Http, ok, publishSyntheticSets, PublishedSets } from '../trainer/trainer-fixture';

const LONG = 20 * 60_000;
const ROOT = join(__dirname, '..', '..');

/** `npm run lineage:rebuild -- <mode>` as the README writes it, against the test database and object storage. */
function lineageRebuild(mode: '--check' | '--replace'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'lineage:rebuild', '--', mode], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: process.env.TRELLIS_TEST_DATABASE_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** The differences a check lists, as [table, key, log, position, where]. */
function differences(out: string): [string, string, string, number, string][] {
  return [...out.matchAll(/^differs: (\S+) (.+) \((\S+) (\d+)\) only in the (live graph|rebuild)$/gm)].map((m) => [m[1], m[2], m[3], Number(m[4]), m[5]]);
}

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
  // Each log's head before this suite: what it records comes after (the database is shared).
  let heads: Record<string, number>;

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
    heads = Object.fromEntries(
      ((await t.dataSource.query('SELECT log, position FROM trellis_log_heads')) as { log: string; position: string }[]).map((h) => [
        h.log,
        Number(h.position),
      ]),
    );
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
    modelVersion { id states } training { id } requestedBy snapshot { id attrs } annotationSets { edges { node { id } } } annotators
    datasetVersions { totalCount } assets subjects consents deidentification { method assets } evaluations { totalCount } promotions { totalCount }
    approvers restsOn { log events positions } } }`;

  it('answers where the champion came from: every asset, subject and consent, the people and the events it rests on', async () => {
    const { modelProvenance: p } = await gql<{ modelProvenance: Record<string, never> }>('auditor', PROVENANCE, { id: modelVersionId });
    const snapshot = JSON.parse((p.snapshot as { attrs: string }).attrs) as { includedItems: number; includedSubjects: number };
    expect(p.assets).toBe(snapshot.includedItems);
    expect(snapshot.includedItems).toBe(6);
    expect(p.subjects).toBe(3);
    // One consent recorded per subject by the fixture.
    expect(p.consents).toBe(3);
    expect(p.annotationSets).toEqual({ edges: [{ node: { id: `annotation-set:${training.captionSetId}` } }] });
    expect(p.datasetVersions).toEqual({ totalCount: 1 });
    expect(p.deidentification).toEqual([{ method: 'none', assets: 6 }]);
    expect(p.requestedBy).toEqual([principals.engineer]);
    expect(p.approvers).toEqual([principals.approver]);
    expect(p.evaluations).toEqual({ totalCount: 1 });
    expect(p.promotions).toEqual({ totalCount: 1 });
    expect((p.restsOn as { log: string }[]).map((r) => r.log)).toEqual(['annotation', 'ingestion', 'openlineage', 'registry', 'trainer']);
    // The snapshot's item facts were computed once (every item is in the graph) and kept; the
    // next answer, read from them, is the same.
    const [facts] = await t.dataSource.query('SELECT assets, cardinality(subject_ids) AS subjects FROM lineage_snapshot_facts WHERE snapshot_id = $1', [
      `snapshot:${runId}`,
    ]);
    expect(facts).toEqual({ assets: 6, subjects: 3 });
    expect((await gql<{ modelProvenance: Record<string, never> }>('auditor', PROVENANCE, { id: modelVersionId })).modelProvenance).toEqual(p);
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
      'query ($id: ID!, $asOf: String) { consentImpact(subjectId: $id, asOf: $asOf) { assets { totalCount } snapshots { totalCount } modelVersions(first: 1000) { edges { node { id states } } } } }';
    type Impact = { consentImpact: { modelVersions: { edges: { node: Node }[] } } };
    const versionIn = (r: Impact) => r.consentImpact.modelVersions.edges.map((e) => e.node).find((m) => m.id === `model-version:${modelVersionId}`);
    const impact = await gql<Impact & { consentImpact: { assets: { totalCount: number } } }>('auditor', IMPACT, { id: subject.subjectId });
    expect(versionIn(impact)).toBeDefined();
    expect(impact.consentImpact.assets.totalCount).toBe(4); // two images, raw and curated
    // The lists are Relay connections: pages by cursor, in id order, and a page too large or a forged cursor is refused.
    const PAGE =
      'query ($id: ID!, $after: String, $first: Int) { consentImpact(subjectId: $id) { assets(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } totalCount } } }';
    type Page = { consentImpact: { assets: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string }; totalCount: number } } };
    const one = (await gql<Page>('auditor', PAGE, { id: subject.subjectId, first: 3 })).consentImpact.assets;
    expect([one.edges.length, one.pageInfo.hasNextPage, one.totalCount]).toEqual([3, true, 4]);
    const two = (await gql<Page>('auditor', PAGE, { id: subject.subjectId, first: 3, after: one.pageInfo.endCursor })).consentImpact.assets;
    expect([two.edges.length, two.pageInfo.hasNextPage]).toEqual([1, false]);
    const ids = [...one.edges, ...two.edges].map((e) => e.node.id);
    expect(ids).toEqual([...ids].sort());
    const tooLarge = await http
      .post('/graphql')
      .set(as('auditor'))
      .send({ query: PAGE, variables: { id: subject.subjectId, first: 1001 } });
    expect(tooLarge.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'PAGE_TOO_LARGE' } });
    const forged = await http
      .post('/graphql')
      .set(as('auditor'))
      .send({ query: PAGE, variables: { id: subject.subjectId, after: 'bm9kZTp4' + 'x' } });
    expect(forged.body.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_CURSOR' } });
    beforeWithdrawal = new Date().toISOString();
    ok(
      await http
        .post(`/ingestion/subjects/${subject.subjectId}/consents/${subject.consentId}/withdraw`)
        .set(as('steward'))
        .send({ purposes: ['model-training'] }),
    );
    const flagged = await eventually(
      async () => {
        const v = versionIn(await gql<Impact>('auditor', IMPACT, { id: subject.subjectId }))!;
        return 'flag:consent-withdrawn' in states(v) ? v : undefined;
      },
      120_000,
      250,
    );
    expect(states(flagged)['flag:consent-withdrawn']).toEqual({ subjects: 1, items: 2 });
    const earlier = await gql<Impact>('auditor', IMPACT, { id: subject.subjectId, asOf: beforeWithdrawal });
    expect(states(versionIn(earlier)!)).not.toHaveProperty('flag:consent-withdrawn');
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
    // The events stay valid OpenLineage 2-0-2, and each custom facet is valid against the schema its _schemaURL names (facets.json).
    expect(coreErrors(events.at(-1))).toEqual([]);
    const ajv = new Ajv2020({ allErrors: true });
    addFormats(ajv);
    ajv.addKeyword('example');
    for (const schema of [...openLineageSchemas, JSON.parse(readFileSync(join(ROOT, 'services/lineage/src/openlineage/facets.json'), 'utf8'))])
      ajv.addSchema(schema);
    for (const facet of [complete.trellis_consentCoverage, complete.trellis_deidentification]) {
      const validate = ajv.getSchema(facet._schemaURL as string)!;
      expect([validate(facet), validate.errors ?? null]).toEqual([true, null]);
      expect(validate({ ...facet, ...(facet.methods ? { methods: [{ method: 'guess', assets: 1 }] } : { excluded: [{ reason: 'whim', count: 1 }] }) })).toBe(
        false,
      );
    }
    const bad = await http.get('/lineage/openlineage/runs?limit=0').set(as('auditor'));
    expect([bad.status, bad.body.fields]).toEqual([400, ['query.limit']]);
    expect((await http.get('/lineage/openlineage/runs').set(as('steward'))).status).toBe(403);
  });

  it("joins an outside tool's OpenLineage run to the graph, and ties the trainer's run to its OpenLineage job (read from the data-only topic)", async () => {
    const outsideRun = '01950000-0000-7000-8000-0000000c0ffe'.replace('0c0ffe', String(Date.now() % 1_000_000).padStart(6, '0'));
    const sent = {
      eventType: 'COMPLETE',
      eventTime: new Date().toISOString(),
      producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.40.0/client/python',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: outsideRun },
      job: { namespace: 'airflow://prod', name: 'dag.export_captions' },
      inputs: [{ namespace: 'trellis', name: `annotation-sets/${training.captionSetId}` }],
      outputs: [{ namespace: 's3://lake', name: 'exports/captions', facets: { schema: { fields: [{ name: 'text' }] } } }],
    };
    const first = ok(await http.post('/api/v1/lineage').set(as('engineer')).send(sent), 201);
    expect(first).toMatchObject({ runId: outsideRun, eventType: 'COMPLETE', outcome: 'recorded' });
    // Clients retry: the same event again is recorded once.
    expect(ok(await http.post('/api/v1/lineage').set(as('engineer')).send(sent), 201)).toEqual({ ...first, outcome: 'duplicate' });
    // The log holds its hash, not the names it carries.
    const [stored] = await t.dataSource.query(`SELECT data FROM trellis_events WHERE log = 'openlineage-import' AND position = $1`, [first.position]);
    expect(JSON.stringify(stored.data)).not.toMatch(/airflow|export_captions|lake/);
    const bad = await http
      .post('/api/v1/lineage')
      .set(as('engineer'))
      .send({ ...sent, run: { runId: 'not-a-uuid' } });
    expect([bad.status, bad.body.error, bad.body.fields]).toEqual([400, 'INVALID_LINEAGE_EVENT', ['body.run.runId']]);
    expect((await http.post('/api/v1/lineage').set(as('auditor')).send(sent)).status).toBe(403);

    const downstream = await eventually(
      async () => {
        const { lineage } = await gql<{ lineage: { nodes: Node[] } }>(
          'auditor',
          'query ($id: ID!) { lineage(id: $id, direction: DOWNSTREAM, depth: 2) { nodes { id type } } }',
          {
            id: `annotation-set:${training.captionSetId}`,
          },
        );
        return lineage.nodes.some((n) => n.type === 'openlineage-dataset') ? lineage.nodes : undefined;
      },
      120_000,
      250,
    );
    expect(downstream.map((n) => n.id)).toEqual(expect.arrayContaining([`openlineage-run:${outsideRun}`, 'openlineage-dataset:s3://lake/exports/captions']));
    const { lineage: job } = await gql<{ lineage: { nodes: Node[] } }>(
      'auditor',
      'query ($id: ID!) { lineage(id: $id, direction: UPSTREAM, depth: 1) { nodes { id } } }',
      {
        id: `training:${runId}`,
      },
    );
    expect(job.nodes.map((n) => n.id)).toContain('openlineage-job:trellis/trainer.lora');
  });

  it(
    'rebuilds by replay into the same graph; a row lost from the live graph is found by --check and restored by --replace',
    async () => {
      const mine = (out: string) => differences(out).filter(([, , log, position]) => position > (heads[log] ?? 0));
      // The live consumers may still be handling the last events: a check equals once they are done.
      const first = await eventually(
        async () => {
          const run = await lineageRebuild('--check');
          return run.out.includes('replayed') && mine(run.out).length === 0 ? run : undefined;
        },
        120_000,
        1000,
      ).catch(async () => {
        throw new Error(`the rebuild kept differing from the live graph:\n${(await lineageRebuild('--check')).out}`);
      });
      expect(first.out).toMatch(/^replayed \d+ events \(.*trainer \d+.*\): \d+ nodes, \d+ edges, \d+ states$/m);
      // Nothing this suite recorded was unreadable.
      for (const [, log, position] of first.out.matchAll(/^unreadable: (\S+) (\d+) /gm)) expect(Number(position)).toBeLessThanOrEqual(heads[log] ?? 0);

      const [lost] = await t.dataSource.query(
        `WITH lost AS (DELETE FROM lineage_edges WHERE ctid IN (SELECT ctid FROM lineage_edges WHERE from_id = $1 AND type = 'wasDerivedFrom' AND to_id LIKE 'curated-asset:%' LIMIT 1)
       RETURNING from_id, to_id, position) SELECT * FROM lost`,
        [`snapshot:${runId}`],
      );
      const broken = await lineageRebuild('--check');
      expect(broken.code).toBe(1);
      expect(mine(broken.out)).toEqual([['lineage_edges', `${lost.from_id} wasDerivedFrom ${lost.to_id}`, 'trainer', Number(lost.position), 'rebuild']]);
      expect(broken.out).toMatch(/the live lineage graph differs from its rebuild in \d+ rows/);

      const replaced = await lineageRebuild('--replace');
      expect([replaced.code, replaced.out]).toEqual([0, expect.stringMatching(/rebuilt the lineage graph from \d+ events/)]);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM lineage_edges WHERE from_id = $1 AND to_id = $2`, [lost.from_id, lost.to_id]);
      expect(n).toBe(1);
      const after = await lineageRebuild('--check');
      expect([after.code, differences(after.out)]).toEqual([0, []]);
      expect(after.out).toMatch(/the live lineage graph equals its rebuild/);
    },
    LONG,
  );

  it(
    'keeps, for an event whose artifact the object storage lost, the rows the live graph recorded from it',
    async () => {
      const [frozen] = await t.dataSource.query(
        `SELECT position, data->'snapshot'->'manifest'->>'key' AS key FROM trellis_events WHERE log = 'trainer' AND type = 'TrainingSnapshotFrozen' AND data->>'runId' = $1`,
        [runId],
      );
      const snapshotEdges = async () =>
        (await t.dataSource.query(`SELECT to_id FROM lineage_edges WHERE from_id = $1 AND type = 'wasDerivedFrom' ORDER BY to_id`, [`snapshot:${runId}`])).map(
          (r: { to_id: string }) => r.to_id,
        );
      const before = await snapshotEdges();
      expect(before.filter((id: string) => id.startsWith('curated-asset:')).length).toBeGreaterThan(0);
      await createObjectStorageFromEnv().delete('artifacts', frozen.key);

      const lost = `unreadable: trainer ${frozen.position} TrainingSnapshotFrozen: the snapshot of run ${runId}: the artifact cannot be read from the object storage`;
      const check = await lineageRebuild('--check');
      expect(check.out).toContain(lost);
      expect(check.out).toMatch(/^kept [1-9]\d* rows the live graph has from the \d+ events whose artifact could not be read$/m);
      expect(differences(check.out).filter(([, key]) => key.includes(runId))).toEqual([]);

      const replaced = await lineageRebuild('--replace');
      expect([replaced.code, replaced.out]).toEqual([0, expect.stringContaining(lost)]);
      expect(replaced.out).toMatch(/rebuilt the lineage graph from \d+ events/);
      expect(await snapshotEdges()).toEqual(before);
    },
    LONG,
  );

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
