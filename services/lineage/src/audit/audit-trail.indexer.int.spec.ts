import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppendContext } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { eventually, openTestEventStore, testContext, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { AuditTrailIndexer } from './audit-trail.indexer';
import { AuditTrailQuery } from './audit-trail.query';

interface TrailRow {
  log: string;
  position: string;
  occurred_at: Date;
  actor_id: string;
  type: string;
}

describe('Audit trail indexer and query (PostgreSQL)', () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let notifier: LogNotifier;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, store, notifier, close } = await openTestEventStore());
  });
  afterAll(() => close());

  const trailOf = (logs: string[]): Promise<TrailRow[]> =>
    ds.query('SELECT log, position, occurred_at, actor_id, type FROM lineage_audit_trail WHERE log = ANY($1) ORDER BY log, position', [logs]);
  const eventsOf = (logs: string[]): Promise<TrailRow[]> =>
    ds.query('SELECT log, position, occurred_at, actor_id, type FROM trellis_events WHERE log = ANY($1) ORDER BY log, position', [logs]);
  const appendThings = async (log: string, n: number, context: AppendContext = testContext) => {
    const things = new ThingEventBuilder(`thing-${randomUUID()}`);
    await store.append(log, `thing-${randomUUID()}`, [things.recorded(), ...Array.from({ length: n - 1 }, () => things.counted())], context, {
      expectedVersion: 'no_stream',
    });
  };

  it('leaves the events table with only the indexes its constraints need: the trail indexes are on the copy', async () => {
    const indexes = (table: string): Promise<{ indexname: string }[]> =>
      ds.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table]);
    const onEvents = (await indexes('trellis_events')).map((i) => i.indexname);
    expect(onEvents.filter((n) => n.includes('trail'))).toEqual([]);
    expect((await indexes('lineage_audit_trail')).map((i) => i.indexname)).toEqual([
      'lineage_audit_trail_actor',
      'lineage_audit_trail_at',
      'lineage_audit_trail_pkey',
      'lineage_audit_trail_type',
    ]);
  });

  it('copies every event committed before the call, once, and then only what is new', async () => {
    const indexer = new AuditTrailIndexer(ds);
    const [a, b] = [uniqueName('trail-a'), uniqueName('trail-b')];
    await appendThings(a, 3);
    await appendThings(b, 2);
    expect(await trailOf([a, b])).toEqual([]);

    expect(await indexer.catchUp()).toBeGreaterThanOrEqual(5);
    expect(await trailOf([a, b])).toEqual(await eventsOf([a, b]));

    await appendThings(a, 4);
    expect(await indexer.catchUp([a, b])).toBe(4);
    expect(await indexer.catchUp([a, b])).toBe(0);
    const trail = await trailOf([a, b]);
    expect(trail).toHaveLength(9);
    expect(trail).toEqual(await eventsOf([a, b]));
  });

  it('copies only the named logs when given some', async () => {
    const indexer = new AuditTrailIndexer(ds);
    const [named, other] = [uniqueName('trail-named'), uniqueName('trail-other')];
    await appendThings(named, 2);
    await appendThings(other, 2);
    expect(await indexer.catchUp([named])).toBe(2);
    expect((await trailOf([named, other])).map((r) => r.log)).toEqual([named, named]);
    expect(await indexer.catchUp([])).toBe(0);
  });

  it('takes turns: catch-ups running at once while appends go on copy every event exactly once, without deadlock', async () => {
    const indexer = new AuditTrailIndexer(ds);
    const logs = Array.from({ length: 4 }, () => uniqueName('trail-race'));
    const appends = logs.map(async (log) => {
      for (let i = 0; i < 5; i++) await store.append(log, `s-${i}`, [new ThingEventBuilder().recorded()], testContext, { expectedVersion: 'no_stream' });
    });
    const catchUps = Array.from({ length: 6 }, (_, i) => (i % 2 ? indexer.catchUp(logs) : indexer.catchUp()));
    await Promise.all([...appends, ...catchUps]);
    await indexer.catchUp(logs);
    const trail = await trailOf(logs);
    expect(trail).toHaveLength(20);
    expect(trail).toEqual(await eventsOf(logs));
  });

  it('in the background, copies appends as their notifications arrive, and stops on shutdown', async () => {
    const indexer = new AuditTrailIndexer(ds, notifier);
    indexer.onApplicationBootstrap();
    try {
      const log = uniqueName('trail-live');
      await appendThings(log, 3);
      const copied = await eventually(async () => {
        const rows = await trailOf([log]);
        return rows.length === 3 && rows;
      }, 10_000);
      expect(copied).toEqual(await eventsOf([log]));
    } finally {
      await indexer.onApplicationShutdown();
    }
    const after = uniqueName('trail-stopped');
    await appendThings(after, 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await trailOf([after])).toEqual([]);
  });

  describe('the trail query', () => {
    const actor = () => ({ actor: { id: `prn-${randomUUID()}`, role: 'steward' as const } });

    it('answers with every event committed before it, however far the background copy has got', async () => {
      const query = new AuditTrailQuery(ds, new AuditTrailIndexer(ds));
      const who = actor();
      const log = uniqueName('trail-query');
      await appendThings(log, 3, who);
      expect(await trailOf([log])).toEqual([]);

      const page = await query.page({ actor: who.actor.id }, { first: 10 });
      expect(page.edges.map((e) => [e.node.log, e.node.position])).toEqual([
        [log, 3],
        [log, 2],
        [log, 1],
      ]);
      expect(page.pageInfo.hasNextPage).toBe(false);
    });

    it('pages by the same cursors and order through the copy as through the events (the stream filter reads the events)', async () => {
      const query = new AuditTrailQuery(ds, new AuditTrailIndexer(ds));
      const who = actor();
      const logs = [uniqueName('trail-p1'), uniqueName('trail-p2')];
      const stream = `thing-${randomUUID()}`;
      for (const log of logs) {
        const things = new ThingEventBuilder();
        await store.append(log, stream, [things.recorded(), things.counted(), things.counted()], who, { expectedVersion: 'no_stream' });
      }
      const walk = async (filter: { actor?: string; stream?: string }) => {
        const seen: string[] = [];
        for (let after: string | null = null; ;) {
          const page = await query.page(filter, { first: 2, after });
          seen.push(...page.edges.map((e) => `${e.node.log}#${e.node.position}@${e.cursor}`));
          if (!page.pageInfo.hasNextPage) return seen;
          after = page.pageInfo.endCursor;
        }
      };
      const byActor = await walk({ actor: who.actor.id });
      expect(byActor).toHaveLength(6);
      expect(byActor).toEqual(await walk({ stream }));
    });
  });
});
