import { DataSource } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import {
  eventually,
  openTestDataSource,
  openTestEventStore,
  spawnTs,
  testContext,
  testContracts,
  ThingEventBuilder,
  uniqueName,
  waitForExit,
  waitForLine,
} from '@trellis/testing';
import { CatchUpSubscription } from './catch-up-subscription';
import { LogNotifier } from './log-notifier';
import { PostgresEventStore } from './postgres-event-store';

describe(CatchUpSubscription.name, () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let notifier: LogNotifier;

  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, store, notifier, close } = await openTestEventStore(testContracts(), 30));
  });
  afterAll(() => close());

  async function createEffects(): Promise<string> {
    const table = `effects_${uniqueName('t').replace(/-/g, '_')}`;
    await ds.query(`CREATE TABLE ${table} (event_id uuid NOT NULL, position bigint NOT NULL, pid int)`);
    return table;
  }

  describe('start', () => {
    it('never misses or repeats an event while eight writers append concurrently', async () => {
      const log = uniqueName('race');
      const seen: EventEnvelope[] = [];
      const sub = new CatchUpSubscription(ds, store, notifier, {
        id: uniqueName('sub'),
        log,
        batchSize: 7,
        pollIntervalMs: 20,
        handler: async (e) => {
          seen.push(e);
        },
      });
      await sub.start();

      // A raw reader polls the log while writers race: every read must continue exactly where
      // the previous one stopped, i.e. no position may ever become visible before a lower one.
      let stopReading = false;
      const gaps: string[] = [];
      const reader = (async () => {
        let last = 0;
        while (!stopReading) {
          const batch = await store.readLog(log, last, 50);
          batch.forEach((e, i) => {
            if (e.position !== last + i + 1) gaps.push(`after ${last + i} saw ${e.position}`);
          });
          if (batch.length) last = batch[batch.length - 1].position;
        }
      })();

      // Eight store instances, as eight processes would be: their appends really race in
      // PostgreSQL (one instance would queue them into group commits).
      const writers = Array.from({ length: 8 }, (_, w) =>
        (async () => {
          const own = new PostgresEventStore(ds, testContracts());
          for (let i = 0; i < 40; i++) {
            const b = new ThingEventBuilder(`w${w}`);
            const size = 1 + ((w + i) % 4);
            await own.append(
              log,
              `w${w}-s${i % 3}`,
              Array.from({ length: size }, () => b.counted()),
              testContext,
              { expectedVersion: 'any' },
            );
          }
        })(),
      );
      await Promise.all(writers);
      const head = await store.headPosition(log);
      await sub.waitFor(head);
      stopReading = true;
      await reader;
      await sub.stop();

      expect(head).toBe(8 * (10 * (1 + 2 + 3 + 4)));
      expect(gaps).toEqual([]);
      expect(seen.map((e) => e.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(new Set(seen.map((e) => e.eventId)).size).toBe(head);
      // Order within each stream is the order it was written in.
      const byStream = new Map<string, number[]>();
      for (const e of seen) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.streamVersion]);
      for (const versions of byStream.values()) expect(versions).toEqual(versions.map((_, i) => i + 1));
    });

    it('resumes after being killed mid-batch with no lost and no doubled effect', async () => {
      const log = uniqueName('kill');
      const table = await createEffects();
      const id = uniqueName('sub');
      const total = 300;
      for (let i = 0; i < total; i += 25) {
        const b = new ThingEventBuilder(`k${i}`);
        await store.append(
          log,
          `k-${i}`,
          Array.from({ length: 25 }, () => b.counted()),
          testContext,
          { expectedVersion: 'any' },
        );
      }
      const count = async () => (await ds.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

      const first = spawnTs('test/fixtures/subscriber.child.ts', [log, id, table, '10']);
      await waitForLine(first, 'ready');
      await eventually(async () => (await count()) >= 60);
      first.kill('SIGKILL');
      await waitForExit(first);
      const afterKill = await count();
      expect(afterKill).toBeLessThan(total);

      const second = spawnTs('test/fixtures/subscriber.child.ts', [log, id, table, '0']);
      await waitForLine(second, 'ready');
      await eventually(async () => (await count()) >= total, 90_000);
      second.kill('SIGTERM');
      await waitForExit(second);

      const rows: { position: string; n: number }[] = await ds.query(
        `SELECT position, count(*)::int AS n FROM ${table} GROUP BY position ORDER BY position::bigint`,
      );
      expect(rows).toHaveLength(total);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const [{ position }] = await ds.query('SELECT position FROM trellis_subscription_checkpoints WHERE subscription_id = $1', [id]);
      expect(Number(position)).toBe(total);
      const pids = await ds.query(`SELECT DISTINCT pid FROM ${table}`);
      expect(pids).toHaveLength(2);
    });

    it('never applies an event twice when two instances of one subscription run at once', async () => {
      const log = uniqueName('twin');
      const table = await createEffects();
      const id = uniqueName('sub');
      const mk = () =>
        new CatchUpSubscription(ds, store, notifier, {
          id,
          log,
          batchSize: 10,
          pollIntervalMs: 20,
          handler: async (e, tx) => {
            await tx.query(`INSERT INTO ${table} (event_id, position) VALUES ($1, $2)`, [e.eventId, e.position]);
          },
        });
      const a = mk();
      const b = mk();
      await Promise.all([a.start(), b.start()]);
      for (let i = 0; i < 20; i++) {
        await store.append(log, `t-${i}`, [new ThingEventBuilder(`t-${i}`).counted(), new ThingEventBuilder(`t-${i}`).counted()], testContext, {
          expectedVersion: 'any',
        });
      }
      await Promise.all([a.waitFor(40), b.waitFor(40)]);
      await Promise.all([a.stop(), b.stop()]);
      const dup = await ds.query(`SELECT position FROM ${table} GROUP BY position HAVING count(*) > 1`);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM ${table}`);
      expect(dup).toEqual([]);
      expect(n).toBe(40);
    });

    it('retries a failing handler with backoff and applies the event once it succeeds', async () => {
      const log = uniqueName('retry');
      let failures = 0;
      const applied: number[] = [];
      const errors: number[] = [];
      const sub = new CatchUpSubscription(ds, store, notifier, {
        id: uniqueName('sub'),
        log,
        retryDelayMs: 10,
        handler: async (e) => {
          if (e.position === 2 && failures < 3) {
            failures++;
            throw new Error('transient');
          }
          applied.push(e.position);
        },
        onError: (_err, e, attempt) => errors.push(attempt),
      });
      await sub.start();
      await store.append(
        log,
        'r',
        [new ThingEventBuilder('r').counted(), new ThingEventBuilder('r').counted(), new ThingEventBuilder('r').counted()],
        testContext,
        {
          expectedVersion: 'any',
        },
      );
      await sub.waitFor(3);
      await sub.stop();
      expect(applied).toEqual([1, 2, 3]);
      expect(errors).toEqual([1, 2, 3]);
      expect(sub.status().lastError).toBeUndefined();
    });
  });
});

describe(`${CatchUpSubscription.name} without LISTEN`, () => {
  it('still delivers every event by polling', async () => {
    const ds = await openTestDataSource(5);
    const store = new PostgresEventStore(ds, testContracts());
    const log = uniqueName('poll');
    const seen: number[] = [];
    const sub = new CatchUpSubscription(ds, store, undefined, {
      id: uniqueName('sub'),
      log,
      pollIntervalMs: 50,
      handler: async (e) => {
        seen.push(e.position);
      },
    });
    await sub.start();
    await store.append(log, 'p-1', [new ThingEventBuilder('p-1').counted()], testContext, { expectedVersion: 'any' });
    await store.append(log, 'p-2', [new ThingEventBuilder('p-2').counted(), new ThingEventBuilder('p-2').counted()], testContext, { expectedVersion: 'any' });
    await sub.waitFor(3);
    await sub.stop();
    await ds.destroy();
    expect(seen).toEqual([1, 2, 3]);
  });
});
