import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { topicFor } from '@trellis/contracts';
import { consumerGroupOf, dlqTopicOf, EventHandler, HEADER, Inbox, KafkaDelivery, KafkaDeliveryOptions, messagingConfigFromEnv } from '@trellis/messaging';
import { openTestEventStore, testContracts } from '@trellis/testing';
import { DeliveryHarness, producerContracts, RETRY, Shared } from './delivery-harness';

export const kafkaConfig = () => ({ ...messagingConfigFromEnv({ ...process.env, TRELLIS_MESSAGING: 'kafka' }), retry: RETRY });

/** Runs the project's own infra script against the broker the global set-up started. */
export function kafkaScript(command: 'stop' | 'start'): void {
  execFileSync('bash', [join(__dirname, '..', '..', 'infra', 'kafka.sh'), command], {
    env: { ...process.env, TRELLIS_DATA_DIR: process.env.TRELLIS_INFRA_DATA_DIR },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

export interface KafkaHarness extends DeliveryHarness {
  delivery(): KafkaDelivery | undefined;
  startWith(options: Partial<KafkaDeliveryOptions> & { handlers: EventHandler[] }): Promise<KafkaDelivery>;
  committedOffsets(handler: EventHandler): Promise<number>;
}

export async function makeKafkaHarness(): Promise<{ harness: KafkaHarness; shared: Shared }> {
  const { ds, store, notifier, close } = await openTestEventStore(producerContracts(), 20);
  const shared: Shared = { ds, store, notifier, inbox: new Inbox(RETRY), consumerRegistry: testContracts() };
  const kafka = new Kafka({ clientId: 'harness', brokers: kafkaConfig().brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await raw.connect();
  let current: KafkaDelivery | undefined;
  const relayed = new Set<string>();

  const harness: KafkaHarness = {
    name: 'kafka',
    delivery: () => current,
    async startWith(options) {
      const relayLogs = options.relayLogs ?? [...new Set(options.handlers.map((h) => h.context))];
      relayLogs.forEach((l) => relayed.add(l));
      current = new KafkaDelivery(ds, shared.store, notifier, shared.consumerRegistry, shared.inbox, kafkaConfig(), {
        relay: { pollIntervalMs: 200 },
        consumer: { chunkSize: 20, sessionTimeout: 10_000 },
        ...options,
        relayLogs,
      });
      await current.start();
      await current.ready();
      return current;
    },
    async start(handlers) {
      await harness.startWith({ handlers });
    },
    async stop() {
      await current?.stop();
      current = undefined;
    },
    async rewind(h) {
      const topic = topicFor(h.context);
      await admin.resetOffsets({ groupId: consumerGroupOf(h.consumer, topic), topic, earliest: true });
    },
    async injectMalformed(context, streamId) {
      // Wait for the relay so that the garbage lands after the events appended before it.
      const head = await shared.store.headPosition(context);
      await current!.relayFor(context)!.waitFor(head);
      await raw.send({ topic: topicFor(context), acks: -1, messages: [{ key: streamId, value: '{"type": "ThingCounted", "data": {' }] });
    },
    async deadLetters(consumer, context) {
      const topic = dlqTopicOf(topicFor(context));
      const found: { reason: string; eventId?: string; offset: bigint; attempts: number }[] = [];
      const reader = kafka.consumer({ groupId: `dlq-reader-${Math.random()}`, sessionTimeout: 10_000 });
      await reader.connect();
      await reader.subscribe({ topic, fromBeginning: true });
      const ends = await admin.fetchTopicOffsets(topic);
      const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      let seen = 0;
      await new Promise<void>((resolve) => {
        if (total === 0) return resolve();
        void reader.run({
          eachMessage: async ({ message }) => {
            seen++;
            const h = (k: string) => message.headers?.[k]?.toString();
            if (h(HEADER.dlqConsumer) === consumer) {
              found.push({
                reason: h(HEADER.dlqReason) ?? '',
                eventId: h(HEADER.eventId),
                offset: BigInt(h(HEADER.dlqSourceOffset) ?? '0'),
                attempts: Number(h(HEADER.dlqAttempts) ?? '-1'),
              });
            }
            if (seen >= total) resolve();
          },
        });
      });
      await reader.disconnect();
      // One partition per key: order the letters by the position of the event behind them.
      return found;
    },
    async drained(h) {
      const topic = topicFor(h.context);
      const head = await shared.store.headPosition(h.context);
      await current!.relayFor(h.context)!.waitFor(head);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [done] = await admin.fetchOffsets({ groupId: consumerGroupOf(h.consumer, topic), topics: [topic] });
        const committed = new Map(done.partitions.map((p) => [p.partition, p.offset]));
        if (ends.every((p) => p.high === '0' || committed.get(p.partition) === p.high)) return;
        if (Date.now() > deadline) throw new Error('consumer did not drain within 60 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async committedOffsets(h) {
      const topic = topicFor(h.context);
      const [done] = await admin.fetchOffsets({ groupId: consumerGroupOf(h.consumer, topic), topics: [topic] });
      return done.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    },
    async close() {
      await harness.stop();
      await raw.disconnect();
      await admin.disconnect();
      await close();
    },
  };
  return { harness, shared };
}
