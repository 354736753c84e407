import { v7 as uuidv7 } from 'uuid';
import { PostgresEventStore } from '@trellis/event-store';
import { EventHandler, Inbox, InProcessDelivery } from '@trellis/messaging';
import { openTestEventStore, testContracts } from '@trellis/testing';
import { describeDeliveryBehaviour } from './delivery-behaviour';
import { DeliveryHarness, producerContracts, RETRY, Shared } from './delivery-harness';

async function makeHarness(): Promise<{ harness: DeliveryHarness; shared: Shared }> {
  const { ds, store, notifier, close } = await openTestEventStore(producerContracts(), 20);
  const shared: Shared = { ds, store, notifier, inbox: new Inbox(RETRY), consumerRegistry: testContracts() };
  // The consuming side reads with its own store, which knows only its own contracts.
  const consumerStore = new PostgresEventStore(ds, shared.consumerRegistry);
  let delivery: InProcessDelivery | undefined;

  const harness: DeliveryHarness = {
    name: 'in-process',
    async start(handlers: EventHandler[]) {
      delivery = new InProcessDelivery(ds, consumerStore, notifier, shared.consumerRegistry, shared.inbox, handlers, { pollIntervalMs: 100 });
      await delivery.start();
    },
    async stop() {
      await delivery?.stop();
      delivery = undefined;
    },
    async rewind(h) {
      await ds.query('UPDATE trellis_subscription_checkpoints SET position = 0 WHERE subscription_id = $1', [`consumer:${h.consumer}:${h.context}`]);
    },
    async injectMalformed(context, streamId) {
      // A row that bypassed the store: data that does not match its schema (the chain breaks
      // too, which verify would report; delivery must not stall on it).
      const head = await shared.store.headPosition(context);
      await ds.query(
        `INSERT INTO trellis_events (log, position, event_id, stream_id, stream_version, type, schema_version, occurred_at, actor_id, actor_role, correlation_id, data, prev_hash, hash)
         VALUES ($1, $2, $3, $4, 1, 'ThingCounted', 1, now(), 'x', 'steward', $5, '{"count": "many"}', repeat('0', 64), repeat('0', 64))`,
        [context, head + 1, uuidv7(), streamId, uuidv7()],
      );
      await ds.query('UPDATE trellis_log_heads SET position = $2 WHERE log = $1', [context, head + 1]);
    },
    async deadLetters(consumer, context) {
      const rows: { reason: string; event_id: string; attempts: number }[] = await ds.query(
        'SELECT reason, event_id, attempts FROM trellis_dead_letters WHERE consumer = $1 AND log = $2 ORDER BY position',
        [consumer, context],
      );
      return rows.map((r) => ({ reason: r.reason, eventId: r.event_id, attempts: r.attempts }));
    },
    async drained(h) {
      await delivery!.waitFor(h.consumer, h.context, await shared.store.headPosition(h.context));
    },
    async close() {
      await harness.stop();
      await close();
    },
  };
  return { harness, shared };
}

describe(`${InProcessDelivery.name} (embedded default)`, () => {
  describeDeliveryBehaviour(makeHarness);
});
