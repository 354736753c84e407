import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Actor, EventContractRegistry, NewEvent } from '@trellis/contracts';
import { openTestDataSource, testContext, testContracts, uniqueName } from '@trellis/testing';
import { hashEvent } from './event-hash';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';
import { PostgresEventStore } from './postgres-event-store';

/** A small seeded PRNG (mulberry32): a failing case is reproduced from the seed it prints. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Arbitrary {
  constructor(readonly next: () => number) {}
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** Any Unicode scalar value but NUL (jsonb cannot hold it), weighted towards the awkward ones. */
  char(): string {
    switch (this.int(8)) {
      case 0:
        return String.fromCodePoint(1 + this.int(0x1f)); // control characters
      case 1:
        return this.pick(['"', '\\', '/', '\u2028', '\u2029', '\u007f', '\ufeff', '\ufffd', '\u0301']);
      case 2:
        return String.fromCodePoint(0x10000 + this.int(0x10ffff - 0x10000)); // astral, a surrogate pair
      case 3:
        return String.fromCodePoint(0xe000 + this.int(0x10000 - 0xe000));
      case 4:
        return String.fromCodePoint(0x80 + this.int(0xd800 - 0x80));
      default:
        return String.fromCodePoint(0x20 + this.int(0x5f));
    }
  }
  string(): string {
    return Array.from({ length: this.int(12) }, () => this.char()).join('');
  }
  number(): number {
    return this.pick([
      () => 0,
      () => -0,
      () => this.int(1000) - 500,
      () => (this.next() - 0.5) * 10 ** (this.int(40) - 20),
      () => Number.MAX_SAFE_INTEGER + this.int(4),
      () => Number.MAX_VALUE,
      () => Number.MIN_VALUE,
      () => -Number.MIN_VALUE,
      () => 0.1 + 0.2,
      () => 1e21,
      () => 123456789012345680000,
    ])();
  }
  value(depth: number): unknown {
    const kind = this.int(depth > 3 ? 4 : 7);
    switch (kind) {
      case 0:
        return this.string();
      case 1:
        return this.number();
      case 2:
        return this.pick([true, false, null]);
      case 3:
        return undefined;
      case 4:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        // Keys in random order, undefined fields among them.
        const o: Record<string, unknown> = {};
        for (let i = this.int(6); i > 0; i--) {
          const key = this.pick([this.string(), this.string(), 'a', 'b', '__proto__', 'constructor', '1', '01']);
          // As JSON.parse makes it: an own field, even when it is called __proto__.
          Object.defineProperty(o, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
        }
        return o;
      }
    }
  }
  actor(): Actor {
    const id = Array.from({ length: 1 + this.int(30) }, () => this.pick([...'abcXYZ0189._:|-'])).join('');
    return { id, role: this.pick(['steward', 'annotator', 'reviewer', 'admin'] as const) };
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function contracts(): EventContractRegistry {
  return testContracts().register({ type: 'AnythingHappened', version: 1, schema: z.unknown() });
}

describe('issue 11 item 2: hash chain', () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let log: string;

  beforeAll(async () => {
    ds = await openTestDataSource();
    store = new PostgresEventStore(ds, contracts());
  });
  afterAll(() => ds.destroy());
  beforeEach(() => {
    log = uniqueName('chain');
  });

  describe('append then read then recompute', () => {
    it('gives the stored hash for random envelopes (unicode strings, numbers, nested data, undefined fields, key order)', async () => {
      const seed = 11_2;
      const gen = new Arbitrary(prng(seed));
      let appended = 0;
      for (let batch = 0; batch < 60; batch++) {
        const events: NewEvent[] = Array.from({ length: 1 + gen.int(4) }, () => ({ type: 'AnythingHappened', data: gen.value(0) ?? null }));
        await store.append(log, `s-${gen.int(5)}`, events, { actor: gen.actor() }, { expectedVersion: 'any' });
        appended += events.length;
      }
      const stored = await store.readLog(log, 0, 1000, undefined, true);
      expect(stored).toHaveLength(appended);
      // An independent reader: a fresh store, the rows exactly as PostgreSQL returns them.
      const mismatches = stored.filter((e) => hashEvent(e.prevHash, e) !== e.hash).map((e) => e.position);
      expect({ seed, mismatches }).toEqual({ seed, mismatches: [] });
      expect(await new PostgresEventStore(ds, contracts()).verify(log)).toEqual({ ok: true, log, lastPosition: appended, checked: appended });
    });

    it('refuses, before writing, what it could not store as hashed: a non-string actor id, NaN, infinities, NUL, lone surrogates, bigints, Maps, Buffers', async () => {
      const bad: [NewEvent, Actor][] = [
        [
          { type: 'AnythingHappened', data: { a: 1 } },
          { id: 12345 as unknown as string, role: 'steward' },
        ],
        [
          { type: 'AnythingHappened', data: { a: 1 } },
          { id: 'someone@example.org', role: 'steward' },
        ],
        [{ type: 'AnythingHappened', data: { a: NaN } }, testContext.actor],
        [{ type: 'AnythingHappened', data: [Infinity] }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: 'x\u0000y' } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { ['k\u0000']: 1 } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: '\ud800' } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: 'x\udc00' } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: BigInt(1) } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: new Map([['k', 1]]) } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: Buffer.from('hi') } }, testContext.actor],
        [{ type: 'AnythingHappened', data: { a: () => 1 } }, testContext.actor],
      ];
      for (const [event, actor] of bad) {
        const err = await caught(store.append(log, 's-1', [event], { actor }, { expectedVersion: 'any' }));
        expect(err).toBeInstanceOf(EventStoreException);
        expect((err as EventStoreException).code).toBe(EventStoreErrorCode.InvalidAppend);
        expect((err as Error).message).not.toContain('someone@example.org');
      }
      expect(await ds.query('SELECT 1 FROM trellis_events WHERE log = $1', [log])).toHaveLength(0);
    });

    it('stores -0 as 0, drops undefined fields and writes a Date as its ISO text, and hashes that', async () => {
      const at = new Date('2026-12-03T08:00:00.000Z');
      const { events } = await store.append(log, 's-1', [{ type: 'AnythingHappened', data: { z: -0, u: undefined, list: [undefined, -0], at } }], testContext, {
        expectedVersion: 'no_stream',
      });
      const [read] = await store.readLog(log, 0, 10, undefined, true);
      expect(read.data).toEqual({ z: 0, list: [null, 0], at: at.toISOString() });
      expect(read.hash).toBe(events[0].hash);
      expect(hashEvent(read.prevHash, read)).toBe(read.hash);
    });
  });

  describe('verify', () => {
    async function seed(n: number): Promise<void> {
      for (let i = 1; i <= n; i++) await store.append(log, `s-${i % 3}`, [{ type: 'AnythingHappened', data: { i } }], testContext, { expectedVersion: 'any' });
    }

    it('reports every broken position, not only the first', async () => {
      await seed(9);
      await ds.query(`UPDATE trellis_events SET data = '{"i": 99}' WHERE log = $1 AND position IN (2, 5)`, [log]);
      await ds.query('DELETE FROM trellis_events WHERE log = $1 AND position = 7', [log]);
      const result = await store.verify(log, 3);
      expect(result).toMatchObject({
        ok: false,
        position: 2,
        brokenCount: 3,
        broken: [
          { position: 2, reason: 'content does not match its hash' },
          { position: 5, reason: 'content does not match its hash' },
          { position: 7, reason: 'event at position 7 is missing' },
        ],
      });
    });

    it('is LOG_NOT_FOUND for an unknown log, not ok', async () => {
      const err = await caught(store.verify(uniqueName('never-written')));
      expect(err).toBeInstanceOf(EventStoreException);
      expect((err as EventStoreException).code).toBe(EventStoreErrorCode.LogNotFound);
      expect((err as EventStoreException).errorClass).toBe('not_found');
    });

    it('reports a deleted head record instead of calling the log unknown', async () => {
      await seed(3);
      await ds.query('DELETE FROM trellis_log_heads WHERE log = $1', [log]);
      expect(await store.verify(log)).toMatchObject({ ok: false, broken: [{ position: 3, reason: 'the head record of the log is missing' }] });
    });
  });
});
