import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { AppendContext, EventEnvelope } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { testContracts, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TrailPage {
  edges: { cursor: string; node: { eventId: string; log: string; position: number; type: string; data: string; actorId: string; actorRole: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const TRAIL = `query Trail($stream: String, $actor: String, $type: String, $from: String, $to: String, $first: Int, $after: String) {
  auditTrail(stream: $stream, actor: $actor, type: $type, from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { eventId log position type data actorId actorRole } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('Audit GraphQL (issue 15)', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let auditor: { token: string; principalId: string };
  let admin: { token: string; principalId: string };

  const gql = (token: string | undefined, query: string, variables?: Record<string, unknown>) => {
    const req = http.post('/graphql');
    if (token) req.set('authorization', `Bearer ${token}`);
    return req.send({ query, variables });
  };
  const trail = async (variables: Record<string, unknown>, token = auditor.token): Promise<TrailPage> => {
    const res = await gql(token, TRAIL, variables);
    expect(res.body.errors).toBeUndefined();
    return res.body.data.auditTrail;
  };
  const auditEventsOf = async (principalId: string): Promise<{ data: Record<string, unknown> }[]> =>
    t.dataSource.query(`SELECT data FROM trellis_events WHERE log = 'audit' AND actor_id = $1 ORDER BY position`, [principalId]);

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    auditor = await t.token(['auditor']);
    admin = await t.token(['admin']);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('auditors are audited', () => {
    it("appends an auditor's operation to the audit log before it runs, keeping hashes and ids but no free text, and auditTrail shows it", async () => {
      const datasetId = randomUUID();
      const subject = `prn-${randomUUID()}`;
      const looks = `query AuditorLooks($stream: String) {
        janesFile: auditTrail(stream: $stream, actor: "${subject}", type: "Jane Doe's file", first: 1) { edges { cursor } }
        verifyAuditChain(log: "audit") { ok }
      }`;
      const first = await gql(auditor.token, looks, { stream: `dataset-${datasetId}` });
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data.verifyAuditChain.ok).toBe(true);

      // The trail asked for now includes its own record: the append happened before it ran.
      const asking = `query { auditTrail(actor: "${auditor.principalId}", type: "AuditorQueried", first: 2) { edges { node { log actorId actorRole data } } } }`;
      const res = await gql(auditor.token, asking);
      expect(res.body.errors).toBeUndefined();
      const [self, earlier] = res.body.data.auditTrail.edges.map((e: { node: { log: string; actorId: string; actorRole: string; data: string } }) => e.node);
      expect(JSON.parse(self.data)).toMatchObject({ querySha256: sha256(asking), rootFields: ['auditTrail'] });
      expect(earlier).toMatchObject({ log: 'audit', actorId: auditor.principalId, actorRole: 'auditor' });
      expect(JSON.parse(earlier.data)).toEqual({
        operationType: 'query',
        operationName: 'AuditorLooks',
        querySha256: sha256(looks),
        rootFields: ['auditTrail', 'verifyAuditChain'],
        ids: [subject, datasetId],
        idCount: 2,
      });
      expect(earlier.data).not.toMatch(/Jane|janesFile|dataset-/);
    });

    it("records auditors only: an admin's operations and a caller without a valid token append nothing", async () => {
      // A comment makes the text, and so its hash, this test's own.
      const query = `# ${uniqueName('admin-looks')}\nquery AdminLooks { eventLogs { log } }`;
      expect((await gql(admin.token, query)).body.errors).toBeUndefined();
      expect((await gql(undefined, query)).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await gql(`trl_${'x'.repeat(43)}`, query)).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const recorded = await t.dataSource.query(`SELECT actor_id FROM trellis_events WHERE log = 'audit' AND data->>'querySha256' = $1`, [sha256(query)]);
      expect(recorded).toEqual([]);
    });

    it("refuses an auditor's operation, running none of it, when the audit log cannot be written", async () => {
      const watched = await t.token(['auditor']);
      const store = t.app.get(PostgresEventStore);
      const logs = jest.spyOn(store, 'logs');
      const name = uniqueName('lineage_test_refuse_audit').replace(/-/g, '_');
      // Refuses this one auditor's audit records only: the database is shared with other suites.
      await t.dataSource.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await t.dataSource.query(
        `CREATE TRIGGER ${name} BEFORE INSERT ON trellis_events FOR EACH ROW WHEN (NEW.log = 'audit' AND NEW.actor_id = '${watched.principalId}') EXECUTE FUNCTION ${name}()`,
      );
      try {
        const res = await gql(watched.token, '{ eventLogs { log } }');
        expect(res.status).toBe(503);
        expect(res.body.data).toBeUndefined();
        expect(res.body.errors).toEqual([
          {
            message: 'the query was not run: it could not be recorded in the audit log; retry later',
            extensions: { code: 'SERVICE_UNAVAILABLE', error: 'AUDIT_UNAVAILABLE', reason: 'AUDIT_UNAVAILABLE' },
          },
        ]);
        expect(logs).not.toHaveBeenCalled();
        expect(await auditEventsOf(watched.principalId)).toEqual([]);
      } finally {
        await t.dataSource.query(`DROP TRIGGER ${name} ON trellis_events`);
        await t.dataSource.query(`DROP FUNCTION ${name}()`);
      }
      const again = await gql(watched.token, '{ eventLogs { log } }');
      expect(again.body.errors).toBeUndefined();
      expect(logs).toHaveBeenCalledTimes(1);
      expect(await auditEventsOf(watched.principalId)).toHaveLength(1);
      logs.mockRestore();
    });
  });

  describe('auditTrail', () => {
    const actor = uniqueName('trail-actor');
    const logA = uniqueName('trail-a');
    const logB = uniqueName('trail-b');
    const streamOne = uniqueName('stream-one');
    const streamTwo = uniqueName('stream-two');
    const context: AppendContext = { actor: { id: actor, role: 'steward' } };
    let earlier: EventEnvelope[];
    let later: EventEnvelope[];
    /** Newest first: occurredAt, then log, then position, all descending. */
    const newestFirst = (events: EventEnvelope[]) =>
      [...events].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt) || b.log.localeCompare(a.log) || b.position - a.position).map((e) => e.eventId);

    beforeAll(async () => {
      const store = new PostgresEventStore(t.dataSource, testContracts());
      const things = new ThingEventBuilder();
      const append = async (log: string, stream: string, events: ReturnType<ThingEventBuilder['counted']>[]) =>
        (await store.append(log, stream, events, context, { expectedVersion: 'any' })).events;
      earlier = [...(await append(logA, streamOne, [things.counted(), things.counted()])), ...(await append(logB, streamOne, [things.counted()]))];
      // Later by at least a millisecond, so that `from` and `to` can fall between the two groups.
      await sleep(5);
      later = [...(await append(logA, streamTwo, [things.recorded('a thing')])), ...(await append(logB, streamTwo, [things.counted()]))];
    });

    it('pages the events of every log newest first with Relay cursors, filtered by actor', async () => {
      const pages: TrailPage[] = [];
      let after: string | null = null;
      do {
        const page = await trail({ actor, first: 2, after });
        pages.push(page);
        after = page.pageInfo.endCursor;
        if (!page.pageInfo.hasNextPage) break;
      } while (pages.length < 10);
      expect(pages.map((p) => p.edges.length)).toEqual([2, 2, 1]);
      expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
      expect(pages.flatMap((p) => p.edges.map((e) => e.node.eventId))).toEqual(newestFirst([...earlier, ...later]));
      expect(pages.every((p) => p.pageInfo.endCursor === p.edges.at(-1)!.cursor)).toBe(true);
    });

    it('filters by stream across logs, by type, and by time (from inclusive, to exclusive)', async () => {
      const ids = (page: TrailPage) => page.edges.map((e) => e.node.eventId);
      expect(ids(await trail({ stream: streamOne }))).toEqual(newestFirst(earlier));
      expect(ids(await trail({ actor, type: 'ThingRecorded' }))).toEqual([later[0].eventId]);
      const boundary = later[0].occurredAt < later[1].occurredAt ? later[0].occurredAt : later[1].occurredAt;
      expect(ids(await trail({ actor, from: boundary }))).toEqual(newestFirst(later));
      expect(ids(await trail({ actor, to: boundary }))).toEqual(newestFirst(earlier));
      expect(ids(await trail({ actor, type: 'ThingRecorded', to: boundary }))).toEqual([]);
    });

    it('is for auditors and admins', async () => {
      expect((await trail({ actor }, admin.token)).edges).toHaveLength(5);
      const steward = await t.token(['steward']);
      expect((await gql(steward.token, TRAIL, { actor })).body.errors[0].extensions.code).toBe('FORBIDDEN');
    });

    it('refuses an over-large page, a cursor it did not issue and a malformed time with BAD_USER_INPUT naming the argument', async () => {
      const refusal = async (variables: Record<string, unknown>) => (await gql(auditor.token, TRAIL, variables)).body.errors[0].extensions;
      expect(await refusal({ first: 1001 })).toEqual({ code: 'BAD_USER_INPUT', error: 'INVALID_QUERY', reason: 'PAGE_TOO_LARGE', fields: ['first'] });
      expect(await refusal({ first: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PAGE_TOO_LARGE', fields: ['first'] });
      expect(await refusal({ after: 'bm90IGEgY3Vyc29y' })).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_CURSOR', fields: ['after'] });
      expect(await refusal({ from: 'last tuesday' })).toMatchObject({ code: 'BAD_USER_INPUT', fields: ['from'] });
      expect(await refusal({ from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' })).toMatchObject({ code: 'BAD_USER_INPUT', fields: ['from'] });
      const page = await gql(auditor.token, TRAIL, { first: 1000, actor });
      expect(page.body.errors).toBeUndefined();
    });
  });

  describe('verifyAuditChain', () => {
    const verify = async (log: string) =>
      (await gql(auditor.token, 'query($log: String!) { verifyAuditChain(log: $log) { ok checked lastPosition brokenAt reason } }', { log })).body;

    it('reports the position of an event edited by SQL, and ok again once it is restored', async () => {
      // A log of its own: the database is shared with every other suite.
      const log = uniqueName('tamper');
      const store = new PostgresEventStore(t.dataSource, testContracts());
      const things = new ThingEventBuilder();
      for (let i = 0; i < 5; i++)
        await store.append(log, 'thing-1', [things.counted()], { actor: { id: 'principal-test', role: 'admin' } }, { expectedVersion: 'any' });
      expect((await verify(log)).data.verifyAuditChain).toEqual({ ok: true, checked: 5, lastPosition: 5, brokenAt: null, reason: null });

      const [{ data }] = await t.dataSource.query('SELECT data FROM trellis_events WHERE log = $1 AND position = 3', [log]);
      await t.dataSource.query(`UPDATE trellis_events SET data = jsonb_set(data, '{count}', '42') WHERE log = $1 AND position = 3`, [log]);
      expect((await verify(log)).data.verifyAuditChain).toEqual({
        ok: false,
        checked: 5,
        lastPosition: null,
        brokenAt: 3,
        reason: 'content does not match its hash',
      });

      await t.dataSource.query('UPDATE trellis_events SET data = $2::jsonb WHERE log = $1 AND position = 3', [log, JSON.stringify(data)]);
      expect((await verify(log)).data.verifyAuditChain).toMatchObject({ ok: true, lastPosition: 5 });
    });

    it('answers NOT_FOUND for a log that does not exist', async () => {
      const body = await verify(uniqueName('no-such-log'));
      expect(body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'LOG_NOT_FOUND' });
    });
  });
});
