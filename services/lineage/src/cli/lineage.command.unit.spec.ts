import { LineageCliDeps, runAuditCommand, runLineageCommand } from './lineage.command';

/** Fake outside world: answers in order, records requests and output. */
function fakeDeps(answers: { status: number; body: unknown }[]) {
  const requests: { method: string; path: string; json?: { query?: string; variables?: Record<string, unknown> } }[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: LineageCliDeps = {
    http: async (method, path, json) => {
      requests.push({ method, path, json: json as never });
      const a = answers.shift();
      if (!a) throw new Error(`unexpected request ${method} ${path}`);
      return { status: a.status, text: JSON.stringify(a.body) };
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return { deps, requests, out, err };
}

const MV = '01950000-0000-7000-8000-000000000001';
const node = (id: string, attrs: object = {}, states: object = {}, label = id) => ({
  id,
  type: id.split(':')[0],
  label,
  attrs: JSON.stringify(attrs),
  states: JSON.stringify(states),
});
const connection = (nodes: object[]) => ({ totalCount: nodes.length, edges: nodes.map((n) => ({ node: n })) });

describe('trellis lineage provenance', () => {
  const provenance = {
    modelVersion: node(
      `model-version:${MV}`,
      { version: 1, method: 'lora' },
      { 'alias:champion': { kind: 'promotion' }, 'flag:consent-withdrawn': { subjects: 1, items: 2 } },
    ),
    baseModel: node('base-model:b', {}, {}, 'base model tiny'),
    training: node('training:r', { method: 'lora' }, { status: 'completed' }),
    requestedBy: ['prn-engineer'],
    snapshot: node('snapshot:r', {
      includedItems: 6,
      includedSubjects: 3,
      excludedItems: 2,
      excluded: [{ reason: 'no-consent', count: 2 }],
      consentAsOf: '2026-12-01T00:00:00Z',
      merkleRoot: 'ab'.repeat(32),
    }),
    annotationSets: connection([node('annotation-set:s', { items: 6, meanItemAgreement: 0.8 })]),
    annotators: ['prn-a1', 'prn-a2'],
    reviewers: ['prn-r'],
    datasetVersions: connection([{ id: 'dataset-version:d@1', label: 'demo v1' }]),
    assets: 6,
    subjects: 3,
    consents: 3,
    deidentification: [{ method: 'none', assets: 6 }],
    evaluations: { totalCount: 1 },
    promotions: { totalCount: 1 },
    approvers: ['prn-approver'],
    restsOn: [{ log: 'ingestion', events: 12 }],
  };

  it('finds the version by name and number, asks GraphQL, and prints the account an auditor reads', async () => {
    const f = fakeDeps([
      { status: 200, body: { modelVersionId: MV } },
      { status: 200, body: { data: { modelProvenance: provenance } } },
    ]);
    expect(await runLineageCommand(['provenance', 'chest-captioner', '1', '--as-of', '2026-12-02T00:00:00Z'], f.deps)).toBe(0);
    expect(f.requests[0]).toMatchObject({ method: 'GET', path: '/registry/models/chest-captioner/versions/1' });
    expect(f.requests[1]).toMatchObject({ method: 'POST', path: '/graphql', json: { variables: { id: MV, asOf: '2026-12-02T00:00:00Z' } } });
    expect(f.out).toEqual([
      `model-version:${MV} (version 1, lora), as of 2026-12-02T00:00:00Z`,
      '  now: champion; FLAGGED consent-withdrawn (1 subject(s), 2 item(s))',
      '  training: training:r (lora, completed), requested by prn-engineer',
      '  base model: base-model:b (base model tiny)',
      '  snapshot: 6 item(s) of 3 subject(s) included, 2 excluded (no-consent 2)',
      `    consent as of 2026-12-01T00:00:00Z, Merkle root ${'ab'.repeat(32)}`,
      '  annotation sets: annotation-set:s (6 items, mean agreement 0.8)',
      '    annotators: prn-a1, prn-a2; reviewers: prn-r',
      '  dataset versions: demo v1',
      '  assets 6, subjects 3, consents 3',
      '  de-identification: none x 6',
      '  evaluations 1, promotions 1, approvers: prn-approver',
      '  rests on: ingestion 12 event(s) (check with trellis audit verify LOG)',
    ]);
  });

  it('takes --id instead, and --json prints the answer as it came', async () => {
    const f = fakeDeps([{ status: 200, body: { data: { modelProvenance: provenance } } }]);
    expect(await runLineageCommand(['provenance', '--id', MV, '--json'], f.deps)).toBe(0);
    expect(f.requests).toHaveLength(1);
    expect(JSON.parse(f.out[0])).toEqual({ modelProvenance: provenance });
  });

  it('exits 3 with the code when GraphQL refuses, 1 when it fails, 2 on bad usage', async () => {
    const refused = fakeDeps([
      { status: 200, body: { data: null, errors: [{ message: 'requires one of the roles: auditor', extensions: { code: 'FORBIDDEN' } }] } },
    ]);
    expect(await runLineageCommand(['provenance', '--id', MV], refused.deps)).toBe(3);
    expect(refused.err).toEqual(['trellis lineage provenance: FORBIDDEN: requires one of the roles: auditor']);
    const failed = fakeDeps([
      { status: 200, body: { errors: [{ message: 'audit log unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'AUDIT_UNAVAILABLE' } }] } },
    ]);
    expect(await runLineageCommand(['provenance', '--id', MV], failed.deps)).toBe(1);
    expect(failed.err).toEqual(['trellis lineage provenance: SERVICE_UNAVAILABLE (AUDIT_UNAVAILABLE): audit log unavailable']);
    const usage = fakeDeps([]);
    expect(await runLineageCommand(['provenance', 'chest-captioner'], usage.deps)).toBe(2);
    expect(usage.err[0]).toMatch(/^trellis lineage provenance: VERSION is required\nusage: trellis lineage provenance NAME VERSION/);
    expect(await runLineageCommand(['walk', 'x', '--direction', 'sideways'], usage.deps)).toBe(2);
    expect(await runLineageCommand(['nothing'], usage.deps)).toBe(2);
  });
});

describe('trellis lineage impact and walk', () => {
  it("lists what the subject's data reached, each model version with its aliases and flags", async () => {
    const lists = {
      consents: connection([node('consent:c')]),
      assets: connection([node('asset:a'), node('curated-asset:a')]),
      datasetVersions: connection([node('dataset-version:d@1')]),
      annotationSets: connection([]),
      snapshots: connection([node('snapshot:r')]),
      trainingRuns: connection([node('training:r')]),
      modelVersions: connection([node(`model-version:${MV}`, {}, { 'alias:champion': {} }, 'model version 1')]),
    };
    const f = fakeDeps([{ status: 200, body: { data: { consentImpact: { subject: node('subject:s'), ...lists } } } }]);
    expect(await runLineageCommand(['impact', 'S'], f.deps)).toBe(0);
    expect(f.out).toEqual([
      'subject:s, as of now',
      '  consents 1, assets 2, dataset versions 1, annotation sets 0, snapshots 1, training runs 1',
      '  model versions: 1',
      `    model-version:${MV} (model version 1)  champion`,
    ]);
  });

  it('prints a walk as node counts and one edge per line', async () => {
    const f = fakeDeps([
      {
        status: 200,
        body: { data: { lineage: { nodes: [node('a:1'), node('b:1'), node('b:2')], edges: [{ from: 'a:1', type: 'used', to: 'b:1' }], truncated: true } } },
      },
    ]);
    expect(await runLineageCommand(['walk', 'a:1', '--direction', 'both', '--depth', '2'], f.deps)).toBe(0);
    expect(f.requests[0].json!.variables).toEqual({ id: 'a:1', direction: 'BOTH', depth: 2, asOf: null });
    expect(f.out).toEqual(['3 node(s): a 1, b 2 (truncated at the node limit)', 'a:1 used b:1']);
  });
});

describe('trellis audit', () => {
  it('verify exits 0 on an intact chain and 1 with every break', async () => {
    const ok = fakeDeps([{ status: 200, body: { data: { verifyAuditChain: { ok: true, checked: 40, lastPosition: 40, broken: [], brokenCount: 0 } } } }]);
    expect(await runAuditCommand(['verify', 'ingestion'], ok.deps)).toBe(0);
    expect(ok.out).toEqual(['ok: ingestion is intact, 40 event(s) up to position 40']);
    const broken = fakeDeps([
      {
        status: 200,
        body: {
          data: { verifyAuditChain: { ok: false, checked: 40, lastPosition: null, broken: [{ position: 7, reason: 'hash mismatch' }], brokenCount: 1 } },
        },
      },
    ]);
    expect(await runAuditCommand(['verify', 'ingestion'], broken.deps)).toBe(1);
    expect(broken.out).toEqual(['BROKEN: ingestion breaks at 1 position(s)', '  7: hash mismatch']);
  });

  it('trail prints one line per event, newest first as answered, and the cursor of the next page', async () => {
    const e = { occurredAt: '2026-12-04T10:00:00.000Z', log: 'audit', position: 3, type: 'AuditorQueried', streamId: 'auditor-prn-x', actorId: 'prn-x' };
    const f = fakeDeps([{ status: 200, body: { data: { auditTrail: { edges: [{ node: e }], pageInfo: { hasNextPage: true, endCursor: 'CUR' } } } } }]);
    expect(await runAuditCommand(['trail', '--type', 'AuditorQueried', '--first', '1'], f.deps)).toBe(0);
    expect(f.requests[0].json!.variables).toMatchObject({ type: 'AuditorQueried', first: 1, stream: null });
    expect(f.out).toEqual(['2026-12-04T10:00:00.000Z  audit 3  AuditorQueried  auditor-prn-x  by prn-x', 'more: --after CUR']);
    expect(await runAuditCommand(['trail', '--first', 'ten'], fakeDeps([]).deps)).toBe(2);
  });
});
