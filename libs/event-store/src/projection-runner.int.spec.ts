import { DataSource, QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import { openTestDataSource, openTestEventStore, testContext, testContracts, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { PostgresEventStore } from './postgres-event-store';
import { Projection, ProjectionRunner } from './projection-runner';
import { LogNotifier } from './log-notifier';

/** A read model of each thing: its name, how often it was counted and the last count. */
class ThingSummaryProjection implements Projection {
  readonly name: string;
  readonly table: string;
  constructor(readonly log: string) {
    this.name = `thing-summary-${log}`;
    this.table = `thing_summary_${log.replace(/-/g, '_')}`;
  }
  async create(ds: DataSource): Promise<void> {
    await ds.query(`CREATE TABLE ${this.table} (thing_id text PRIMARY KEY, name text, counts int NOT NULL DEFAULT 0, last_count int, last_position bigint)`);
  }
  async apply(e: EventEnvelope, tx: QueryRunner): Promise<void> {
    const d = e.data as Record<string, unknown>;
    if (e.type === 'ThingRecorded') {
      await tx.query(
        `INSERT INTO ${this.table} (thing_id, name, last_position) VALUES ($1, $2, $3)
         ON CONFLICT (thing_id) DO UPDATE SET name = excluded.name, last_position = excluded.last_position`,
        [d.thingId, d.name, e.position],
      );
    } else if (e.type === 'ThingCounted') {
      await tx.query(
        `INSERT INTO ${this.table} (thing_id, counts, last_count, last_position) VALUES ($1, 1, $2, $3)
         ON CONFLICT (thing_id) DO UPDATE SET counts = ${this.table}.counts + 1, last_count = excluded.last_count, last_position = excluded.last_position`,
        [d.thingId, d.count, e.position],
      );
    }
  }
  async reset(tx: QueryRunner): Promise<void> {
    await tx.query(`TRUNCATE ${this.table}`);
  }
  async rows(ds: DataSource): Promise<unknown[]> {
    return ds.query(`SELECT * FROM ${this.table} ORDER BY thing_id`);
  }
}

describe(ProjectionRunner.name, () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let notifier: LogNotifier;

  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, store, notifier, close } = await openTestEventStore(testContracts()));
  });
  afterAll(() => close());

  describe('rebuild', () => {
    it('drops the read model and replays it to exactly the live state', async () => {
      const log = uniqueName('proj');
      const projection = new ThingSummaryProjection(log);
      await projection.create(ds);
      const runner = new ProjectionRunner(ds, store, notifier);
      await runner.start(projection);

      for (let i = 0; i < 40; i++) {
        const b = new ThingEventBuilder(`thing-${i % 5}`);
        await store.append(log, `thing-${i % 5}`, i < 5 ? [b.recorded(`name ${i}`)] : [b.counted(i)], testContext, { expectedVersion: 'any' });
      }
      // Old-version events are upcast for the projection too.
      await store.append(log, 'thing-9', [{ type: 'ThingRecorded', schemaVersion: 1, data: { thingId: 'thing-9', label: 'legacy' } }], testContext, {
        expectedVersion: 'any',
      });
      await runner.catchUp(projection);
      const live = await projection.rows(ds);
      expect(live).toHaveLength(6);
      expect(live).toContainEqual(expect.objectContaining({ thing_id: 'thing-9', name: 'legacy' }));
      expect(live).toContainEqual({ thing_id: 'thing-0', name: 'name 0', counts: 7, last_count: 35, last_position: '36' });

      // Corrupt the read model to prove the rebuild really recomputes it.
      await ds.query(`UPDATE ${projection.table} SET counts = 0`);
      await runner.rebuild(projection);
      expect(await projection.rows(ds)).toEqual(live);

      // And the rebuilt projection keeps following the log.
      await store.append(log, 'thing-0', [new ThingEventBuilder('thing-0').counted(99)], testContext, { expectedVersion: 'any' });
      await runner.catchUp(projection);
      expect(await projection.rows(ds)).toContainEqual(expect.objectContaining({ thing_id: 'thing-0', counts: 8, last_count: 99 }));
      await runner.stopAll();
    });
  });
});

describe(`${ProjectionRunner.name} with two replicas`, () => {
  it('rebuilds correctly while another replica of the projection keeps running', async () => {
    const ds = await openTestDataSource(10);
    const store = new PostgresEventStore(ds, testContracts());
    const log = uniqueName('replica');
    const projection = new ThingSummaryProjection(log);
    await projection.create(ds);
    const a = new ProjectionRunner(ds, store);
    const b = new ProjectionRunner(ds, store);
    await a.start(projection);
    await b.start(projection);
    for (let i = 0; i < 60; i++) {
      await store.append(log, `thing-${i % 4}`, [new ThingEventBuilder(`thing-${i % 4}`).counted(i)], testContext, { expectedVersion: 'any' });
    }
    await a.catchUp(projection);
    const live = await projection.rows(ds);
    // Replica b is still subscribed while a truncates and rewinds: b must not carry the
    // checkpoint past events the rebuilt model has not seen.
    await a.rebuild(projection);
    for (let i = 60; i < 70; i++) {
      await store.append(log, `thing-${i % 4}`, [new ThingEventBuilder(`thing-${i % 4}`).counted(i)], testContext, { expectedVersion: 'any' });
    }
    await a.catchUp(projection);
    await b.catchUp(projection);
    const rows = (await projection.rows(ds)) as { thing_id: string; counts: number }[];
    expect(rows.reduce((n, r) => n + r.counts, 0)).toBe(70);
    expect(live.length).toBe(4);
    await a.stopAll();
    await b.stopAll();
    await ds.destroy();
  });
});
