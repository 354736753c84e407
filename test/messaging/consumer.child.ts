/**
 * A consumer alone in a process that kills itself (SIGKILL) right after its first chunk's
 * effects committed and before the offsets of that chunk are committed.
 * argv: <log> <consumer> <effectsTable>
 */
import 'reflect-metadata';
import { createDataSource } from '@trellis/common';
import { PostgresEventStore } from '@trellis/event-store';
import { Inbox, KafkaDelivery, messagingConfigFromEnv } from '@trellis/messaging';
import { testContracts } from '@trellis/testing';
import { effectsHandler, producerContracts, RETRY } from './delivery-harness';

async function main(): Promise<void> {
  const [log, consumer, table] = process.argv.slice(2);
  const ds = await createDataSource({ url: process.env.TRELLIS_TEST_DATABASE_URL!, poolSize: 3 });
  const fx = await effectsHandler(ds, log, undefined, table);
  const config = { ...messagingConfigFromEnv({ ...process.env, TRELLIS_MESSAGING: 'kafka' }), retry: RETRY };
  const delivery = new KafkaDelivery(ds, new PostgresEventStore(ds, producerContracts()), undefined, testContracts(), new Inbox(RETRY), config, {
    relayLogs: [],
    handlers: [{ ...fx.handler, consumer }],
    consumer: {
      chunkSize: 10,
      sessionTimeout: 6_000,
      afterEffectsCommitted: async () => {
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => undefined);
      },
    },
  });
  await delivery.start();
  await delivery.ready();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
