import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { withTransaction } from '@trellis/common';
import type { EventEnvelope } from '@trellis/contracts';
import { openTestDataSource, uniqueName } from '@trellis/testing';
import { Inbox } from './inbox';

function event(position: number, id = uuidv7()): EventEnvelope {
  return {
    eventId: id,
    type: 'ThingCounted',
    schemaVersion: 1,
    log: 'inbox-test',
    streamId: 's',
    streamVersion: position,
    position,
    occurredAt: new Date().toISOString(),
    actor: { id: 'p', role: 'steward' },
    correlationId: uuidv7(),
    causationId: null,
    data: { count: position },
    prevHash: '0'.repeat(64),
    hash: '0'.repeat(64),
  };
}

describe(Inbox.name, () => {
  let ds: DataSource;
  const inbox = new Inbox({ maxAttempts: 3, retryDelayMs: 1, maxRetryDelayMs: 2 });
  beforeAll(async () => {
    ds = await openTestDataSource(4);
  });
  afterAll(() => ds.destroy());

  async function effects(): Promise<{
    table: string;
    handle: (e: EventEnvelope, tx: import('typeorm').QueryRunner) => Promise<void>;
    count(): Promise<number>;
  }> {
    const table = `inbox_fx_${uniqueName('t').replace(/-/g, '_')}`;
    await ds.query(`CREATE TABLE ${table} (event_id uuid)`);
    return {
      table,
      handle: async (e, tx) => {
        if ((e.data as { count: number }).count === 13) throw new Error('unlucky');
        await tx.query(`INSERT INTO ${table} VALUES ($1)`, [e.eventId]);
      },
      count: async () => (await ds.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n,
    };
  }

  describe('deliverBatch', () => {
    it('handles an event that appears twice in one batch only once', async () => {
      const fx = await effects();
      const consumer = uniqueName('c');
      const a = event(1);
      const outcomes = await withTransaction(ds, (tx) => inbox.deliverBatch(tx, { consumer, handle: fx.handle }, [a, event(2), a]));
      expect(outcomes.map((o) => o.status)).toEqual(['handled', 'handled', 'duplicate']);
      expect(await fx.count()).toBe(2);
    });

    it('reports events handled in an earlier transaction as duplicates and applies nothing again', async () => {
      const fx = await effects();
      const consumer = uniqueName('c');
      const batch = [event(1), event(2)];
      await withTransaction(ds, (tx) => inbox.deliverBatch(tx, { consumer, handle: fx.handle }, batch));
      const again = await withTransaction(ds, (tx) => inbox.deliverBatch(tx, { consumer, handle: fx.handle }, [...batch, event(3)]));
      expect(again.map((o) => o.status)).toEqual(['duplicate', 'duplicate', 'handled']);
      expect(await fx.count()).toBe(3);
    });

    it('isolates a failing event: the others are applied, it is reported failed and leaves no trace', async () => {
      const fx = await effects();
      const consumer = uniqueName('c');
      const poison = event(13);
      const outcomes = await withTransaction(ds, (tx) => inbox.deliverBatch(tx, { consumer, handle: fx.handle }, [event(12), poison, event(14)]));
      expect(outcomes).toEqual([{ status: 'handled' }, { status: 'failed', reason: 'handler failed 3 times: unlucky', attempts: 3 }, { status: 'handled' }]);
      expect(await fx.count()).toBe(2);
      const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM trellis_processed_events WHERE consumer = $1 AND event_id = $2', [
        consumer,
        poison.eventId,
      ]);
      expect(n).toBe(0);
    });

    it('undoes a batch handler that throws and replays its events one at a time', async () => {
      const fx = await effects();
      const consumer = uniqueName('c');
      const batchHandler = async (events: EventEnvelope[], tx: import('typeorm').QueryRunner) => {
        for (const e of events) await fx.handle(e, tx);
      };
      const outcomes = await withTransaction(ds, (tx) =>
        inbox.deliverBatch(tx, { consumer, handle: fx.handle, handleBatch: batchHandler }, [event(11), event(13)]),
      );
      expect(outcomes.map((o) => o.status)).toEqual(['handled', 'failed']);
      expect(await fx.count()).toBe(1);
    });
  });
});
