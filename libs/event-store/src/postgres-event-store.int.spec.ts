import { DataSource, QueryRunner } from 'typeorm';
import { canonicalJson, ContractErrorCode, ContractException } from '@trellis/contracts';
import { eventually, openTestDataSource, testContext, testContracts, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';
import { AppendResult, MAX_EVENT_DATA_BYTES, PostgresEventStore } from './postgres-event-store';

async function rowCount(ds: DataSource, log: string): Promise<number> {
  const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM trellis_events WHERE log = $1', [log]);
  return n;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever fields the thrown error has
async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe(PostgresEventStore.name, () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let log: string;
  const things = new ThingEventBuilder();

  beforeAll(async () => {
    ds = await openTestDataSource();
    store = new PostgresEventStore(ds, testContracts());
  });
  afterAll(() => ds.destroy());
  beforeEach(() => {
    log = uniqueName('store');
  });

  describe('append', () => {
    it('assigns stream versions, gap-free log positions and a chained hash', async () => {
      const first = await store.append(log, 'thing-1', [things.recorded(), things.counted(1)], testContext, { expectedVersion: 'no_stream' });
      const second = await store.append(log, 'thing-2', [things.recorded('other')], testContext, { expectedVersion: 'no_stream' });
      const third = await store.append(log, 'thing-1', [things.counted(2)], testContext, { expectedVersion: 2 });

      expect([first.firstPosition, first.lastPosition, second.lastPosition, third.lastPosition]).toEqual([1, 2, 3, 4]);
      expect(third.streamVersion).toBe(3);
      const all = await store.readLog(log);
      expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4]);
      expect(all[0].prevHash).toBe('0'.repeat(64));
      for (let i = 1; i < all.length; i++) expect(all[i].prevHash).toBe(all[i - 1].hash);
      expect(all.every((e) => /^[0-9a-f-]{36}$/.test(e.eventId) && e.eventId[14] === '7')).toBe(true);
      expect(all[0].actor).toEqual(testContext.actor);
    });

    it('rejects a conflicting expected version with a typed error and writes nothing', async () => {
      await store.append(log, 'thing-1', [things.recorded()], testContext, { expectedVersion: 'no_stream' });
      const headBefore = await store.headPosition(log);

      for (const expectedVersion of [0, 2, 'no_stream'] as const) {
        const err = await caught(store.append(log, 'thing-1', [things.counted(), things.counted()], testContext, { expectedVersion }));
        expect(err).toBeInstanceOf(EventStoreException);
        expect(err.code).toBe(EventStoreErrorCode.WrongExpectedVersion);
        expect(err.details).toMatchObject({ streamId: 'thing-1', current: 1 });
      }
      const missing = await caught(store.append(log, 'thing-9', [things.counted()], testContext, { expectedVersion: 'stream_exists' }));
      expect(missing.code).toBe(EventStoreErrorCode.WrongExpectedVersion);

      expect(await rowCount(ds, log)).toBe(1);
      expect(await store.headPosition(log)).toBe(headBefore);
      expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 1 });
    });

    it('lets exactly one of racing writers with the same expected version win', async () => {
      await store.append(log, 'thing-1', [things.recorded()], testContext, { expectedVersion: 'no_stream' });
      // Within one instance the race is decided while grouping appends...
      const local = await Promise.allSettled([1, 2, 3, 4].map(() => store.append(log, 'thing-1', [things.counted()], testContext, { expectedVersion: 1 })));
      expect(local.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      // ...across instances (processes) by trellis_append_rows under the log lock.
      const stores = [1, 2, 3, 4].map(() => new PostgresEventStore(ds, testContracts()));
      const remote = await Promise.allSettled(stores.map((s) => s.append(log, 'thing-1', [things.counted()], testContext, { expectedVersion: 2 })));
      expect(remote.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of remote) if (r.status === 'rejected') expect(r.reason.code).toBe(EventStoreErrorCode.WrongExpectedVersion);
      expect(await rowCount(ds, log)).toBe(3);
      expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 3 });
    });

    it('keeps one chain when several instances append to one log', async () => {
      const stores = [1, 2, 3].map(() => new PostgresEventStore(ds, testContracts()));
      await Promise.all(
        stores.map(async (s, i) => {
          for (let k = 0; k < 10; k++) await s.append(log, `t-${i}`, [things.counted()], testContext, { expectedVersion: k });
        }),
      );
      expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 30 });
    });

    it('writes nothing of rows planned on a stale head, and answers the head it locked', async () => {
      await store.append(log, 'thing-1', [things.recorded(), things.counted(1)], testContext, { expectedVersion: 'no_stream' });
      const head = await ds.query('SELECT hash FROM trellis_log_heads WHERE log = $1', [log]);
      // A row as another process would send it, planned when the log was still empty.
      const row = {
        i: '01890000-0000-7000-8000-000000000001',
        s: 'thing-2',
        t: 'ThingRecorded',
        sv: 1,
        o: new Date().toISOString(),
        a: testContext.actor.id,
        ar: testContext.actor.role,
        c: '01890000-0000-7000-8000-000000000002',
        ca: null,
        d: { thingId: 'thing-2', name: 'x' },
        v: 1,
        h: 'f'.repeat(64),
      };
      const [answer] = await ds.query(
        `SELECT ok, head_position, head_hash FROM trellis_append_rows($1, 0, repeat('0', 64), ARRAY['thing-2'], ARRAY[0], $2::json)`,
        [log, JSON.stringify([row])],
      );
      expect(answer).toEqual({ ok: false, head_position: '2', head_hash: head[0].hash });
      expect(await rowCount(ds, log)).toBe(2);
      expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 2 });
    });

    it('reads the versions of the streams it appends to by index probes, however long the log', async () => {
      // A log much longer than any of its streams: a lookup that reads the log shows.
      for (let i = 0; i < 5; i++) {
        await store.append(
          log,
          `old-${i}`,
          Array.from({ length: 400 }, (_, k) => things.counted(k + 1)),
          testContext,
          { expectedVersion: 'any' },
        );
      }
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        await qr.startTransaction();
        // A cached generic plan is what every pooled connection ends up with (PL/pgSQL caches its
        // plans per connection): one planned while the table was small must still probe the index.
        await qr.query('SET LOCAL plan_cache_mode = force_generic_plan');
        const read = async () => {
          const [s] = await qr.query(
            `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_xact_user_tables WHERE relname = 'trellis_events'`,
          );
          return Number(s?.n ?? 0);
        };
        const before = await read();
        // 'any' makes the store read the stream versions itself, then trellis_append_rows checks them.
        await store.append(log, 'old-3', [things.counted()], testContext, { expectedVersion: 'any', queryRunner: qr });
        await store.append(log, 'new-1', [things.recorded()], testContext, { expectedVersion: 'no_stream', queryRunner: qr });
        const fetched = (await read()) - before;
        await qr.commitTransaction();
        expect(fetched).toBeLessThan(20);
      } finally {
        await qr.release();
      }
      expect((await store.readStream(log, 'old-3')).map((e) => e.streamVersion).at(-1)).toBe(401);
      expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 2002 });
    });

    it('runs trellis_append_rows on the generic plans checked above, not planned again on every call', async () => {
      const [{ config }] = await ds.query(`SELECT proconfig AS config FROM pg_proc WHERE proname = 'trellis_append_rows'`);
      expect(config).toContain('plan_cache_mode=force_generic_plan');
    });

    describe('with a second group sent while the first is in flight', () => {
      /**
       * Holds the log's lock from a test transaction, so that the store's groups wait for it inside
       * PostgreSQL: the first group sent, then (sent once the first waits) a second one, planned on
       * the head the first will leave. `meanwhile` runs in the lock's transaction before it commits.
       */
      async function twoGroupsInFlight(
        first: () => Promise<AppendResult>[],
        second: () => Promise<AppendResult>[],
        meanwhile?: (qr: QueryRunner) => Promise<void>,
      ) {
        const qr = ds.createQueryRunner();
        await qr.connect();
        const waiting = async () => {
          const [{ n }] = await ds.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event = 'advisory' AND query LIKE '%trellis_append_rows%'`,
          );
          return n as number;
        };
        try {
          await qr.startTransaction();
          await qr.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`trellis_log:${log}`]);
          const firstGroup = first();
          await eventually(async () => (await waiting()) === 1);
          const secondGroup = second();
          // Both groups wait for the lock at once: the second did not wait for the first's answer.
          await eventually(async () => (await waiting()) === 2);
          if (meanwhile) await meanwhile(qr);
          await qr.commitTransaction();
          return { first: await Promise.allSettled(firstGroup), second: await Promise.allSettled(secondGroup) };
        } finally {
          if (qr.isTransactionActive) await qr.rollbackTransaction();
          await qr.release();
        }
      }

      const value = (r: PromiseSettledResult<AppendResult>) => {
        if (r.status !== 'fulfilled') throw r.reason;
        return r.value;
      };

      it('writes both, the second after the first, on one chain', async () => {
        const { first, second } = await twoGroupsInFlight(
          () => ['a', 'b'].map((s) => store.append(log, s, [things.recorded(), things.counted(1)], testContext, { expectedVersion: 'no_stream' })),
          // 'a' again: its expected version is what the first group leaves.
          () => [
            store.append(log, 'a', [things.counted(2)], testContext, { expectedVersion: 2 }),
            store.append(log, 'c', [things.recorded()], testContext, { expectedVersion: 'any' }),
          ],
        );
        expect([...first, ...second].map((r) => value(r).lastPosition)).toEqual([2, 4, 5, 6]);
        expect(value(second[0]).streamVersion).toBe(3);
        expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 6 });
      });

      it('writes nothing of the second on a head another writer moved, then writes it after the first', async () => {
        const other = new PostgresEventStore(ds, testContracts());
        const { first, second } = await twoGroupsInFlight(
          () => [store.append(log, 'a', [things.recorded()], testContext, { expectedVersion: 'no_stream' })],
          () => [store.append(log, 'a', [things.counted(1)], testContext, { expectedVersion: 1 })],
          // Holding the lock, this transaction may append: both groups were planned on a head it moves.
          async (qr) => void (await other.append(log, 'z', [things.recorded()], testContext, { expectedVersion: 'no_stream', queryRunner: qr })),
        );
        expect([value(first[0]).lastPosition, value(second[0]).lastPosition]).toEqual([2, 3]);
        expect(value(second[0]).streamVersion).toBe(2);
        expect((await store.readLog(log)).map((e) => e.streamId)).toEqual(['z', 'a', 'a']);
        expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 3 });
      });

      it('writes the second after the first failed as a whole, and nothing the second planned on its rows', async () => {
        // A database error on one row fails the whole first group's statement.
        const trigger = `poison_${log.replace(/-/g, '_')}`;
        await ds.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'poisoned row'; END $$`);
        await ds.query(
          `CREATE TRIGGER ${trigger} BEFORE INSERT ON trellis_events FOR EACH ROW WHEN (NEW.log = '${log}' AND NEW.data->>'name' = 'poison') EXECUTE FUNCTION ${trigger}()`,
        );
        try {
          const { first, second } = await twoGroupsInFlight(
            () => [
              store.append(log, 'a', [things.recorded('fine')], testContext, { expectedVersion: 'no_stream' }),
              store.append(log, 'b', [things.recorded('poison')], testContext, { expectedVersion: 'no_stream' }),
            ],
            // 'b' again, expecting what the first group would have left: it is refused, not written.
            () => [
              store.append(log, 'c', [things.recorded('fine')], testContext, { expectedVersion: 'no_stream' }),
              store.append(log, 'b', [things.counted(1)], testContext, { expectedVersion: 1 }),
            ],
          );
          expect(first.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
          expect(first[1].status === 'rejected' && String(first[1].reason)).toMatch(/poisoned row/);
          expect(value(first[0]).lastPosition).toBe(1);
          expect(value(second[0]).lastPosition).toBe(2);
          expect(second[1].status === 'rejected' && second[1].reason).toMatchObject({ code: EventStoreErrorCode.WrongExpectedVersion });
        } finally {
          await ds.query(`DROP TRIGGER ${trigger} ON trellis_events`);
          await ds.query(`DROP FUNCTION ${trigger}()`);
        }
        expect((await store.readLog(log)).map((e) => e.streamId)).toEqual(['a', 'c']);
        expect(await store.verify(log)).toMatchObject({ ok: true, lastPosition: 2 });
      });
    });

    it('rejects malformed data naming the field, and writes nothing of the batch', async () => {
      const err = await caught(
        store.append(log, 'thing-1', [things.recorded(), { type: 'ThingCounted', data: { thingId: 'thing-1', count: -3 } }], testContext, {
          expectedVersion: 'any',
        }),
      );
      expect(err).toBeInstanceOf(ContractException);
      expect(err.code).toBe(ContractErrorCode.InvalidEventData);
      expect(err.fields).toEqual(['data.count']);
      expect(err.message).toMatch(/ThingCounted v1 is invalid: data\.count/);

      const unknown = await caught(store.append(log, 'thing-1', [{ type: 'Nope', data: {} }], testContext, { expectedVersion: 'any' }));
      expect(unknown.code).toBe(ContractErrorCode.UnknownEventType);
      expect(await rowCount(ds, log)).toBe(0);
    });

    it('accepts data of 256 KiB as UTF-8 and refuses one byte more, however few characters it has', async () => {
      const overhead = Buffer.byteLength(canonicalJson({ name: '', tags: [], thingId: 'thing-1' }));
      const named = (name: string) => store.append(log, 'thing-1', [things.recorded(name)], testContext, { expectedVersion: 'any' });
      await named('a'.repeat(MAX_EVENT_DATA_BYTES - overhead));
      // 'é' is 2 bytes in UTF-8 and 1 character: about half as many characters as bytes, and one byte over.
      const bytes = MAX_EVENT_DATA_BYTES - overhead + 1;
      const over = await caught(named('é'.repeat(Math.floor(bytes / 2)) + 'a'.repeat(bytes % 2)));
      expect(over).toMatchObject({ code: EventStoreErrorCode.InvalidAppend, message: expect.stringContaining(`${MAX_EVENT_DATA_BYTES + 1} bytes`) });
      expect(await rowCount(ds, log)).toBe(1);
    });

    it('refuses an empty batch, a bad stream id and an actor without a known role', async () => {
      const cases = [
        store.append(log, 'thing-1', [], testContext, { expectedVersion: 'any' }),
        store.append(log, 'bad stream id!', [things.counted()], testContext, { expectedVersion: 'any' }),
        store.append(log, 'thing-1', [things.counted()], { actor: { id: 'x', role: 'root' as never } }, { expectedVersion: 'any' }),
      ];
      for (const c of cases) expect((await caught(c)).code).toBe(EventStoreErrorCode.InvalidAppend);
      expect(await rowCount(ds, log)).toBe(0);
    });

    it('commits with the caller transaction', async () => {
      const qr = ds.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      await store.append(log, 'thing-1', [things.recorded()], testContext, { expectedVersion: 'no_stream', queryRunner: qr });
      expect(await rowCount(ds, log)).toBe(0); // not visible before the caller commits
      await qr.commitTransaction();
      await qr.release();
      expect(await rowCount(ds, log)).toBe(1);
    });

    it('disappears with the caller transaction rollback', async () => {
      const qr = ds.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      await store.append(log, 'thing-1', [things.recorded()], testContext, { expectedVersion: 'no_stream', queryRunner: qr });
      await qr.rollbackTransaction();
      await qr.release();
      expect(await rowCount(ds, log)).toBe(0);
      // Not even the head record survives: the log is unknown.
      expect(await caught(store.verify(log))).toMatchObject({ code: EventStoreErrorCode.LogNotFound });
    });
  });

  describe('readStream', () => {
    it('upcasts an old event version on read without rewriting the stored row', async () => {
      await store.append(log, 'thing-1', [{ type: 'ThingRecorded', schemaVersion: 1, data: { thingId: 'thing-1', label: 'old' } }], testContext, {
        expectedVersion: 'no_stream',
      });
      const [event] = await store.readStream(log, 'thing-1');
      expect(event.schemaVersion).toBe(2);
      expect(event.data).toEqual({ thingId: 'thing-1', name: 'old', tags: [] });

      const [raw] = await ds.query('SELECT schema_version, data FROM trellis_events WHERE log = $1', [log]);
      expect(raw).toEqual({ schema_version: 1, data: { thingId: 'thing-1', label: 'old' } });
      expect(await store.verify(log)).toMatchObject({ ok: true });
    });
  });

  describe('verify', () => {
    async function seed(n: number): Promise<void> {
      for (let i = 1; i <= n; i++) await store.append(log, `thing-${i % 3}`, [things.counted(i)], testContext, { expectedVersion: 'any' });
    }

    it('accepts an untouched log', async () => {
      await seed(7);
      expect(await store.verify(log, 3)).toEqual({ ok: true, log, lastPosition: 7, checked: 7 });
    });

    it('detects an edited row at its position', async () => {
      await seed(7);
      await ds.query(`UPDATE trellis_events SET data = jsonb_set(data, '{count}', '999') WHERE log = $1 AND position = 4`, [log]);
      expect(await store.verify(log, 3)).toMatchObject({ ok: false, position: 4, reason: 'content does not match its hash' });
    });

    it('detects an edited actor at its position', async () => {
      await seed(5);
      await ds.query(`UPDATE trellis_events SET actor_id = 'someone-else' WHERE log = $1 AND position = 2`, [log]);
      expect(await store.verify(log)).toMatchObject({ ok: false, position: 2 });
    });

    it('detects a deleted row at its position', async () => {
      await seed(7);
      await ds.query('DELETE FROM trellis_events WHERE log = $1 AND position = 5', [log]);
      expect(await store.verify(log, 2)).toMatchObject({ ok: false, position: 5, reason: 'event at position 5 is missing' });
    });

    it('detects a deleted tail against the log head', async () => {
      await seed(4);
      await ds.query('DELETE FROM trellis_events WHERE log = $1 AND position = 4', [log]);
      expect(await store.verify(log)).toMatchObject({ ok: false, position: 4 });
    });

    it('detects a forged hash at that row', async () => {
      await seed(4);
      await ds.query(`UPDATE trellis_events SET hash = repeat('a', 64) WHERE log = $1 AND position = 2`, [log]);
      const result = await store.verify(log);
      expect(result).toMatchObject({ ok: false, position: 2 });
    });
  });
});
