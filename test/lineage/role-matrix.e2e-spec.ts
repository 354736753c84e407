import { createHash } from 'node:crypto';
import request from 'supertest';
import { GRANTABLE_ROLES, GrantableRole } from '@trellis/contracts';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

/**
 * The specification of who may call what over GraphQL: every query and mutation field of the
 * schema, the roles allowed to call it (all other grantable roles are refused with FORBIDDEN),
 * and a call with minimal valid arguments. A field the schema gains fails this suite until it
 * is added here.
 */
const MATRIX: Record<string, { allowed: GrantableRole[]; call: string }> = {
  'Query.eventLogs': { allowed: ['auditor', 'admin'], call: '{ eventLogs { log } }' },
  'Query.eventLog': { allowed: ['auditor', 'admin'], call: '{ eventLog(log: "auth", first: 1) { position } }' },
  'Query.verifyEventLog': { allowed: ['auditor', 'admin'], call: '{ verifyEventLog(log: "auth") { ok } }' },
  'Query.verifyAuditChain': { allowed: ['auditor', 'admin'], call: '{ verifyAuditChain(log: "auth") { ok } }' },
  'Query.auditTrail': { allowed: ['auditor', 'admin'], call: '{ auditTrail(first: 1) { pageInfo { hasNextPage } } }' },
  'Query.aliasHistory': { allowed: ['engineer', 'approver', 'auditor'], call: '{ aliasHistory(model: "no-such-model") { model } }' },
  'Query.node': {
    allowed: ['auditor', 'admin', 'engineer', 'approver', 'steward'],
    call: '{ node(id: "subject:01950000-0000-7000-8000-000000000000") { id } }',
  },
  'Query.lineage': {
    allowed: ['auditor', 'admin', 'engineer', 'approver', 'steward'],
    call: '{ lineage(id: "subject:01950000-0000-7000-8000-000000000000") { truncated } }',
  },
  'Query.modelProvenance': {
    allowed: ['auditor', 'admin', 'engineer', 'approver'],
    call: '{ modelProvenance(modelVersionId: "01950000-0000-7000-8000-000000000000") { assets } }',
  },
  'Query.consentImpact': {
    allowed: ['auditor', 'admin', 'steward'],
    call: '{ consentImpact(subjectId: "01950000-0000-7000-8000-000000000000") { subject { id } } }',
  },
};

type Outcome = 'allowed' | 'FORBIDDEN';

describe('GraphQL role x operation matrix (issue 15)', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  const tokens = {} as Record<GrantableRole, { token: string; principalId: string }>;

  const gql = (token: string, query: string) => http.post('/graphql').set('authorization', `Bearer ${token}`).send({ query });

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    for (const role of GRANTABLE_ROLES) tokens[role] = await t.token([role]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('has a row for every query and mutation field of the schema, and none for a field that is gone', async () => {
    const res = await gql(
      tokens.admin.token,
      '{ __schema { queryType { name fields(includeDeprecated: true) { name } } mutationType { name fields(includeDeprecated: true) { name } } } }',
    );
    expect(res.body.errors).toBeUndefined();
    const { queryType, mutationType } = res.body.data.__schema;
    const fields = [queryType, mutationType]
      .filter(Boolean)
      .flatMap((type: { name: string; fields: { name: string }[] }) => type.fields.map((f) => `${type.name}.${f.name}`));
    const missing = fields.filter((f) => !(f in MATRIX));
    const stale = Object.keys(MATRIX).filter((f) => !fields.includes(f));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('allows exactly the roles in the table and refuses every other grantable role with FORBIDDEN', async () => {
    const expected: Record<string, Record<string, Outcome>> = {};
    const actual: Record<string, Record<string, Outcome | string>> = {};
    for (const [field, { allowed, call }] of Object.entries(MATRIX)) {
      expected[field] = {};
      actual[field] = {};
      for (const role of GRANTABLE_ROLES) {
        expected[field][role] = allowed.includes(role) ? 'allowed' : 'FORBIDDEN';
        const res = await gql(tokens[role].token, call);
        const codes: string[] = (res.body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code ?? 'no code');
        // Past the guard, an unknown name is NOT_FOUND and a bad value BAD_USER_INPUT: both mean the role was let in.
        if (codes.length === 0 || codes.every((c) => c === 'NOT_FOUND' || c === 'BAD_USER_INPUT')) actual[field][role] = 'allowed';
        else if (codes.every((c) => c === 'FORBIDDEN')) actual[field][role] = 'FORBIDDEN';
        else actual[field][role] = `unexpected: ${codes.join(', ')}`;
      }
    }
    expect(actual).toEqual(expected);
  });

  it("puts every one of the auditor's calls in the audit trail", async () => {
    const auditor = tokens.auditor;
    const res = await gql(auditor.token, `{ auditTrail(actor: "${auditor.principalId}", type: "AuditorQueried", first: 100) { edges { node { data } } } }`);
    expect(res.body.errors).toBeUndefined();
    const recorded = res.body.data.auditTrail.edges.map((e: { node: { data: string } }) => JSON.parse(e.node.data).querySha256);
    const calls = Object.values(MATRIX).map(({ call }) => createHash('sha256').update(call).digest('hex'));
    expect(calls.filter((hash) => !recorded.includes(hash))).toEqual([]);
  });
});
