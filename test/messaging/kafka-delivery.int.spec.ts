import { Kafka, logLevel } from 'kafkajs';
import { topicFor } from '@trellis/contracts';
import { EventHandler, HEADER, KafkaDelivery } from '@trellis/messaging';
import { eventually, spawnTs, ThingEventBuilder, uniqueName, waitForExit, waitForLine } from '@trellis/testing';
import { describeDeliveryBehaviour } from './delivery-behaviour';
import { ctx, effectsHandler, Shared } from './delivery-harness';
import { kafkaConfig, KafkaHarness, kafkaScript, makeKafkaHarness } from './kafka-harness';

describe(`${KafkaDelivery.name} (distributed profile, real broker)`, () => {
  describe('shared behaviour', () => {
    describeDeliveryBehaviour(makeKafkaHarness);
  });

  describe('failures', () => {
    let harness: KafkaHarness;
    let shared: Shared;
    beforeAll(async () => {
      ({ harness, shared } = await makeKafkaHarness());
    });
    afterAll(() => harness.close());
    afterEach(() => harness.stop());

    async function append(log: string, from: number, to: number): Promise<void> {
      for (let i = from; i < to; i++) {
        await shared.store.append(log, `s${i % 4}`, [new ThingEventBuilder(`s${i % 4}`).counted(i + 1)], ctx, { expectedVersion: 'any' });
      }
    }

    async function expectExactlyOnce(fx: Awaited<ReturnType<typeof effectsHandler>>, log: string, total: number): Promise<void> {
      const rows = await eventually(async () => {
        const r = await fx.rows();
        return r.length >= total && r;
      }, 90_000);
      expect(rows).toHaveLength(total);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
      for (let s = 0; s < 4; s++) {
        const versions = rows.filter((r) => r.stream_id === `s${s}`).map((r) => r.stream_version);
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }
      const [{ head }] = await shared.ds.query('SELECT position AS head FROM trellis_log_heads WHERE log = $1', [log]);
      expect(Number(head)).toBe(total);
    }

    it('reads a data-only topic through the stored events its headers name, and dead-letters a message naming none or carrying other data', async () => {
      const log = uniqueName('data-only');
      const fx = await effectsHandler(shared.ds, log);
      await harness.startWith({ handlers: [fx.handler], relayLogs: [log], dataOnlyLogs: [log] });
      await shared.store.append(log, 'a', [new ThingEventBuilder('a').counted()], ctx, { expectedVersion: 'no_stream' });
      // No trellis-event-id header: not a Trellis event.
      await harness.injectMalformed(log, 'garbage');
      // The header of a stored event, but other data than it holds.
      const [stored] = await shared.store.readStream(log, 'a');
      const forger = new Kafka({ clientId: 'forger', brokers: kafkaConfig().brokers, logLevel: logLevel.NOTHING }).producer();
      await forger.connect();
      await forger.send({
        topic: topicFor(log),
        acks: -1,
        messages: [{ key: 'a', value: JSON.stringify({ forged: true }), headers: { [HEADER.eventId]: stored.eventId } }],
      });
      await forger.disconnect();
      await shared.store.append(log, 'b', [new ThingEventBuilder('b').counted()], ctx, { expectedVersion: 'no_stream' });

      const dead = await eventually(async () => {
        const d = await harness.deadLetters(fx.handler.consumer, log);
        return d.length >= 2 && d;
      }, 60_000);
      expect(dead.map((d) => d.reason).sort()).toEqual([
        expect.stringMatching(/^malformed message: no trellis-event-id header/),
        `the message's data differs from stored event ${stored.eventId}`,
      ]);
      const rows = await eventually(async () => {
        const r = await fx.rows();
        return r.length >= 2 && r;
      }, 60_000);
      // The handler saw the stored envelopes (stream, position), each once.
      expect(rows.map((r) => [r.stream_id, Number(r.position) > 0]).sort()).toEqual([
        ['a', true],
        ['b', true],
      ]);
    });

    it('handles every event exactly once when the broker is stopped mid-stream and started again', async () => {
      const log = uniqueName('broker');
      const fx = await effectsHandler(shared.ds, log);
      await harness.start([fx.handler]);
      await append(log, 0, 40);
      await eventually(async () => (await fx.rows()).length >= 10, 60_000);
      kafkaScript('stop');
      try {
        // Appends keep working while the broker is down: the log is the outbox.
        await append(log, 40, 80);
      } finally {
        kafkaScript('start');
      }
      await append(log, 80, 100);
      await expectExactlyOnce(fx, log, 100);
    });

    it('loses nothing and doubles nothing when the relay is killed mid-stream and restarted', async () => {
      const log = uniqueName('relay');
      const fx = await effectsHandler(shared.ds, log);
      await append(log, 0, 400);
      // The relay runs alone in a child process, slowed down, and is killed while publishing.
      const relay = spawnTs('test/messaging/relay.child.ts', [log, '10']);
      await waitForLine(relay, 'ready');
      await eventually(async () => {
        const [row] = await shared.ds.query('SELECT position FROM trellis_relay_positions WHERE log = $1', [log]);
        return Number(row?.position ?? 0) >= 50;
      }, 60_000);
      relay.kill('SIGKILL');
      await waitForExit(relay);
      const [row] = await shared.ds.query('SELECT position FROM trellis_relay_positions WHERE log = $1', [log]);
      expect(Number(row.position)).toBeLessThan(400);

      await harness.startWith({ handlers: [fx.handler], relayLogs: [log] });
      await append(log, 400, 420);
      await expectExactlyOnce(fx, log, 420);
    });

    it('finishes and commits the work in flight on graceful shutdown', async () => {
      const log = uniqueName('graceful');
      await append(log, 0, 120);
      const fx = await effectsHandler(shared.ds, log);
      // A slow handler, so that the stop lands while a chunk is being handled.
      const slow: EventHandler = {
        ...fx.handler,
        handle: async (e, tx) => {
          await tx.query('SELECT pg_sleep(0.02)');
          await fx.handler.handle(e, tx);
        },
      };
      await harness.startWith({ handlers: [slow], relayLogs: [log] });
      await eventually(async () => (await fx.rows()).length >= 5, 60_000);
      await harness.stop();
      const handled = (await fx.rows()).length;
      expect(handled).toBeLessThan(120);
      // Everything whose effect committed has its offset committed too: nothing is in limbo.
      expect(await harness.committedOffsets(slow)).toBe(handled);

      await harness.startWith({ handlers: [slow], relayLogs: [log] });
      await expectExactlyOnce(fx, log, 120);
    });

    it('has no double effect when a consumer is killed after its effects committed and before its offsets did', async () => {
      const log = uniqueName('crash');
      await append(log, 0, 60);
      const consumerName = uniqueName('consumer');
      const fx = await effectsHandler(shared.ds, log);
      const handler: EventHandler = { ...fx.handler, consumer: consumerName };
      // Relay everything first, so that the child only consumes.
      const relayOnly = await harness.startWith({ handlers: [], relayLogs: [log] });
      await relayOnly.relayFor(log)!.waitFor(60);
      await harness.stop();

      const child = spawnTs('test/messaging/consumer.child.ts', [log, consumerName, fx.table]);
      const code = await waitForExit(child);
      expect(code).toBe(null); // it died by SIGKILL, from its own hook
      const handledBeforeCrash = (await fx.rows()).length;
      expect(handledBeforeCrash).toBeGreaterThan(0);
      expect(await harness.committedOffsets(handler)).toBeLessThan(handledBeforeCrash);

      await harness.startWith({ handlers: [handler], relayLogs: [log] });
      await expectExactlyOnce(fx, log, 60);
    });
  });
});
