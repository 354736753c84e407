import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import { DomainException, ErrorClass } from '@trellis/errors';
import { eventually, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { ctx, DeliveryHarness, effectsHandler, Shared } from './delivery-harness';

/**
 * The behaviour both deliveries must show; run once against Kafka and once in-process.
 */
export function describeDeliveryBehaviour(makeHarness: () => Promise<{ harness: DeliveryHarness; shared: Shared }>): void {
  let harness: DeliveryHarness;
  let shared: Shared;

  beforeAll(async () => {
    ({ harness, shared } = await makeHarness());
  });
  afterAll(() => harness.close());
  afterEach(() => harness.stop());

  async function appendInterleaved(log: string, streams: number, perStream: number): Promise<void> {
    const builders = Array.from({ length: streams }, (_, s) => new ThingEventBuilder(`s${s}`));
    for (let i = 0; i < perStream; i++) {
      for (let s = 0; s < streams; s++) {
        await shared.store.append(log, `s${s}`, [builders[s].counted()], ctx, { expectedVersion: i });
      }
    }
  }

  it('hands every event to the handler once, in order per stream', async () => {
    const log = uniqueName('order');
    const fx = await effectsHandler(shared.ds, log);
    await harness.start([fx.handler]);
    await appendInterleaved(log, 5, 12);
    const rows = await eventually(async () => {
      const r = await fx.rows();
      return r.length >= 60 && r;
    }, 60_000);
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(60);
    for (let s = 0; s < 5; s++) {
      expect(rows.filter((r) => r.stream_id === `s${s}`).map((r) => r.stream_version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    }
  });

  it('dead-letters a malformed message, an unknown event type and a poison event, and handles the events behind them', async () => {
    const log = uniqueName('dlq');
    const fx = await effectsHandler(shared.ds, log, 'poison');
    await harness.start([fx.handler]);
    await shared.store.append(log, 'before', [new ThingEventBuilder('before').counted()], ctx, { expectedVersion: 'no_stream' });
    await harness.injectMalformed(log, 'garbage');
    await shared.store.append(log, 'archived', [{ type: 'ThingArchived', data: { thingId: 'x' } }], ctx, { expectedVersion: 'no_stream' });
    await shared.store.append(log, 'poison', [new ThingEventBuilder('poison').counted()], ctx, { expectedVersion: 'no_stream' });
    await shared.store.append(log, 'after', [new ThingEventBuilder('after').counted()], ctx, { expectedVersion: 'no_stream' });

    const dead = await eventually(async () => {
      const d = await harness.deadLetters(fx.handler.consumer, log);
      return d.length >= 3 && d;
    }, 60_000);
    const rows = await eventually(async () => {
      const r = await fx.rows();
      return r.length >= 2 && r;
    }, 60_000);
    // Different streams may travel on different partitions: compare as sets.
    expect(rows.map((r) => r.stream_id).sort()).toEqual(['after', 'before']);
    expect(dead).toHaveLength(3);
    expect(dead.map((d) => d.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/malformed|INVALID_EVENT_DATA/),
        expect.stringMatching(/UNKNOWN_EVENT_TYPE: unknown event type "ThingArchived"/),
        expect.stringMatching(/handler failed 3 times: poison event poison/),
      ]),
    );
    // The poison event left no trace in the inbox, so a fixed handler could take it again.
    const [{ n }] = await shared.ds.query('SELECT count(*)::int AS n FROM trellis_processed_events WHERE consumer = $1', [fx.handler.consumer]);
    expect(n).toBe(2);
  });

  it('dead-letters an event whose handler breaks a domain rule after one attempt, and retries a transient failure', async () => {
    class RuleBroken extends DomainException<'RULE_BROKEN'> {
      readonly errorClass: ErrorClass = 'conflict';
    }
    const log = uniqueName('permanent');
    const fx = await effectsHandler(shared.ds, log);
    let flakyTries = 0;
    const handler = {
      ...fx.handler,
      handle: async (e: EventEnvelope, tx: QueryRunner) => {
        if (e.streamId === 'rule') throw new RuleBroken('RULE_BROKEN', 'the rule said no', undefined, 'TOO_LATE');
        // A failure that is not a domain error is not known to be final: it is retried.
        if (e.streamId === 'flaky' && ++flakyTries < 2) throw new Error('connection reset');
        await fx.handler.handle(e, tx);
      },
    };
    for (const s of ['a', 'rule', 'flaky', 'b']) {
      await shared.store.append(log, s, [new ThingEventBuilder(s).counted()], ctx, { expectedVersion: 'no_stream' });
    }
    await harness.start([handler]);
    await harness.drained(handler);
    expect((await fx.rows()).map((r) => r.stream_id).sort()).toEqual(['a', 'b', 'flaky']);
    const dead = await eventually(async () => {
      const d = await harness.deadLetters(handler.consumer, log);
      return d.length >= 1 && d;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0].attempts).toBe(1);
    expect(dead[0].reason).toMatch(/permanent RULE_BROKEN \(TOO_LATE\): the rule said no/);
  });

  it('replays a failing batch handler one event at a time, so only the poison event is dead-lettered', async () => {
    const log = uniqueName('batch');
    const fx = await effectsHandler(shared.ds, log, 'poison');
    let batchCalls = 0;
    const handler = {
      ...fx.handler,
      // A batch handler that applies everything and then trips over the poison event.
      handleBatch: async (events: import('@trellis/contracts').EventEnvelope[], tx: import('typeorm').QueryRunner) => {
        batchCalls++;
        for (const e of events) await fx.handler.handle(e, tx);
      },
    };
    for (const s of ['a', 'b', 'poison', 'c']) {
      await shared.store.append(log, s, [new ThingEventBuilder(s).counted()], ctx, { expectedVersion: 'no_stream' });
    }
    await harness.start([handler]);
    await harness.drained(handler);
    const rows = await fx.rows();
    expect(rows.map((r) => r.stream_id).sort()).toEqual(['a', 'b', 'c']);
    expect(batchCalls).toBeGreaterThan(0);
    const dead = await eventually(async () => {
      const d = await harness.deadLetters(handler.consumer, log);
      return d.length >= 1 && d;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/poison event poison/);
  });

  it('has no second effect when everything is delivered again', async () => {
    const log = uniqueName('again');
    const fx = await effectsHandler(shared.ds, log);
    await appendInterleaved(log, 3, 10);
    await harness.start([fx.handler]);
    await eventually(async () => (await fx.rows()).length >= 30, 60_000);
    await harness.stop();

    await harness.rewind(fx.handler);
    await appendInterleaved2(log);
    await harness.start([fx.handler]);
    await eventually(async () => (await fx.rows()).length >= 31, 60_000);
    // Wait until the replay of the 30 old events has passed through the handler path too.
    await harness.drained(fx.handler);
    const rows = await fx.rows();
    expect(rows).toHaveLength(31);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(31);

    async function appendInterleaved2(l: string): Promise<void> {
      await shared.store.append(l, 'late', [new ThingEventBuilder('late').counted()], ctx, { expectedVersion: 'no_stream' });
    }
  });
}
