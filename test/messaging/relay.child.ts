/** A relay alone in a process, so that a test can SIGKILL it. argv: <log> <delayMsPerBatch> */
import 'reflect-metadata';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { topicFor } from '@trellis/contracts';
import { createDataSource } from '@trellis/common';
import { PostgresEventStore } from '@trellis/event-store';
import { KafkaRelay } from '@trellis/messaging';
import { producerContracts } from './delivery-harness';

async function main(): Promise<void> {
  const [log, delay] = process.argv.slice(2);
  const ds = await createDataSource({ url: process.env.TRELLIS_TEST_DATABASE_URL!, poolSize: 3 });
  const kafka = new Kafka({ clientId: 'relay-child', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topicFor(log), numPartitions: 3 },
      { topic: `${topicFor(log)}.dlq`, numPartitions: 3 },
    ],
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // Slow every send down so that the kill lands mid-stream.
  const send = producer.send.bind(producer);
  producer.send = async (record) => {
    await new Promise((r) => setTimeout(r, Number(delay)));
    return send(record);
  };
  const relay = new KafkaRelay(ds, new PostgresEventStore(ds, producerContracts()), producer, undefined, {
    log,
    topic: topicFor(log),
    batchSize: 7,
    pollIntervalMs: 100,
  });
  await relay.start();
  process.stdout.write('ready\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
