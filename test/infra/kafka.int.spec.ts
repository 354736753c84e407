// Confirms that the KafkaJS version the project ships works against the broker that
// infra/kafka.sh runs (KAFKA_VERSION there): keyed produce, consumer groups, manual offset
// commits, and a rejoining group resuming after its last commit.
import { randomUUID } from 'node:crypto';
import { Consumer, Kafka, logLevel, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS || `127.0.0.1:${process.env.KAFKA_PORT || 9092}`)
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

const PARTITIONS = 3;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const MESSAGES = 30;
const TAIL = 'tail';
// Only a guard against hanging forever; nothing here asserts on timing.
const HANG_GUARD_MS = 90_000;

interface Received {
  partition: number;
  offset: number;
  key: string;
  seq: number;
}

describe('kafkajs against the infra broker', () => {
  const runId = randomUUID().slice(0, 8);
  const topic = `trellis-infra-spec-${runId}`;
  const groupId = `trellis-infra-spec-group-${runId}`;
  const kafka = new Kafka({ clientId: `infra-spec-${runId}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const openConsumers = new Set<Consumer>();

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  }, 60_000);

  afterAll(async () => {
    for (const consumer of openConsumers) await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }, 60_000);

  /**
   * Runs one consumer-group member (eachMessage, autoCommit off) until `done` says so, then
   * disconnects it. `onMessage` may commit offsets. A crash KafkaJS restarts from by itself
   * (e.g. the coordinator still loading on a group's first join) is not a failure, but it
   * legitimately redelivers uncommitted messages, so callers learn how many there were.
   */
  async function consumeWithGroup(
    done: (received: Received[]) => boolean,
    onMessage: (consumer: Consumer, received: Received[]) => Promise<void> = async () => undefined,
  ): Promise<{ received: Received[]; restarts: number }> {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 15_000, heartbeatInterval: 1_000 });
    openConsumers.add(consumer);
    const received: Received[] = [];
    let restarts = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`consumer stalled after ${received.length} messages`)), HANG_GUARD_MS);
        const finish = (error?: unknown) => {
          clearTimeout(guard);
          if (error) reject(error);
          else resolve();
        };
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (payload.restart) restarts += 1;
          else finish(payload.error);
        });
        (async () => {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          await consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const key = message.key!.toString();
              const seq = key === TAIL ? -1 : Number(JSON.parse(message.value!.toString()).seq);
              received.push({ partition, offset: Number(message.offset), key, seq });
              await onMessage(consumer, received);
              if (done(received)) finish();
            },
          });
        })().catch(finish);
      });
    } finally {
      await consumer.disconnect();
      openConsumers.delete(consumer);
    }
    return { received, restarts };
  }

  it('produces keyed messages, commits offsets manually, and a rejoining group resumes after the commit', async () => {
    const produced = Array.from({ length: MESSAGES }, (_, seq) => ({ key: KEYS[seq % KEYS.length], seq }));
    await producer.send({
      topic,
      messages: produced.map(({ key, seq }) => ({ key, value: JSON.stringify({ key, seq }) })),
    });

    // Session 1: read everything, committing (per partition, next offset to read) right
    // after the first half has been processed, then keep going without committing.
    const committed = new Map<number, number>();
    const { received: first } = await consumeWithGroup(
      (received) => new Set(received.map((m) => `${m.partition}/${m.offset}`)).size === MESSAGES,
      async (consumer, received) => {
        if (received.length !== MESSAGES / 2) return;
        const next = new Map<number, number>();
        for (const m of received) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, m.offset + 1));
        await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })));
        next.forEach((offset, partition) => committed.set(partition, offset));
      },
    );
    const firstUnique = new Map(first.map((m) => [`${m.partition}/${m.offset}`, m]));
    expect([...firstUnique.values()].map((m) => m.seq).sort((a, b) => a - b)).toEqual(produced.map((m) => m.seq));
    expect(committed.size).toBeGreaterThan(0);

    // The broker holds exactly what was committed (-1 = nothing committed on that partition).
    const [stored] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const { partition, offset } of stored.partitions) {
      expect(Number(offset)).toBe(committed.get(partition) ?? -1);
    }

    // A marker at the end of every partition lets session 2 know it has seen everything
    // there is without waiting for "no more messages".
    await producer.send({
      topic,
      messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ key: TAIL, value: '{}', partition })),
    });

    // Session 2: same group, fresh member. It must start at the committed offsets (or at
    // the beginning of partitions with no commit) and so see exactly the uncommitted rest.
    const { received: second, restarts } = await consumeWithGroup(
      (received) => new Set(received.filter((m) => m.key === TAIL).map((m) => m.partition)).size === PARTITIONS,
    );
    const all = second.filter((m) => m.key !== TAIL);
    // Exactly once each, unless KafkaJS restarted the member, which replays uncommitted ones.
    const resumed = restarts === 0 ? all : [...new Map(all.map((m) => [`${m.partition}/${m.offset}`, m])).values()];
    const expected = [...firstUnique.values()].filter((m) => m.offset >= (committed.get(m.partition) ?? 0));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(MESSAGES);

    for (const m of resumed) expect(m.offset).toBeGreaterThanOrEqual(committed.get(m.partition) ?? 0);
    const byPosition = (a: Received, b: Received) => a.partition - b.partition || a.offset - b.offset;
    expect(resumed.map(({ partition, offset, key, seq }) => ({ partition, offset, key, seq })).sort(byPosition)).toEqual(
      expected.map(({ partition, offset, key, seq }) => ({ partition, offset, key, seq })).sort(byPosition),
    );

    // Per key, the remainder arrives in production order (one key maps to one partition).
    for (const key of KEYS) {
      const got = resumed.filter((m) => m.key === key).map((m) => m.seq);
      const want = expected
        .filter((m) => m.key === key)
        .map((m) => m.seq)
        .sort((a, b) => a - b);
      expect(got).toEqual(want);
    }
  }, 180_000);
});
