/**
 * npm run bench:messaging
 *
 * Events appended in one service and handled (effect committed in PostgreSQL) in another,
 * through Kafka: relay -> topic -> consumer group -> inbox + effect. Beside it, in the same run,
 * plain kafkajs produce -> consume of the same payloads with no store. Two phases:
 *   saturated: BENCH_EVENTS (10,000) events as fast as each side can take them -> throughput;
 *   paced:     events offered at half the raw throughput (or less, if the platform cannot take
 *              that much) -> end-to-end latency p50/p99 at that rate.
 * Uses DATABASE_URL / KAFKA_BROKERS if set, else starts embedded PostgreSQL and infra/kafka.sh.
 * Prints a table, then one JSON line.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { z } from 'zod';
import { createDataSource } from '@trellis/common';
import { MIGRATIONS } from '../migrations';
import { AppendContext, EventContractRegistry, EventEnvelope } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { Inbox, KafkaDelivery, toKafkaMessage } from '@trellis/messaging';
import { benchKafka, benchPostgres, cpuPerEvent, cpuSample, percentile, printTable } from './bench-services';
import { loadPlatformaticKafka, PLATFORMATIC_KAFKA_VERSION, type PlatformaticKafka } from './peers/platformatic-kafka.peer';

const N = Number(process.env.BENCH_EVENTS || 10_000);
const PARTITIONS = 3;
const ctx: AppendContext = { actor: { id: 'prn-bench', role: 'steward' } };
const contracts = new EventContractRegistry().register({
  type: 'AssetIngested',
  version: 1,
  schema: z.object({ assetId: z.string(), subjectId: z.string(), sha256: z.string(), bytes: z.number().int() }),
});
const data = (i: number) => ({ assetId: `asset-${i}`, subjectId: `subj-${i % 97}`, sha256: 'ab'.repeat(32), bytes: 1000 + i });

interface Result {
  scenario: string;
  events: number;
  eps: number;
  latencies: number[];
  /** CPU per event (µs) of this process, PostgreSQL and the broker from the first offer to the last event handled; null off Linux. */
  cpu: ReturnType<typeof cpuPerEvent>;
  /** The platform's: per event, ms spent in each stage (see STAGES). */
  stages?: Record<Stage, number[]>;
}

/** When an event passed each point on its way (ms since the epoch), as the benchmark observes it. */
interface Marks {
  start?: number;
  commit?: number;
  read?: number;
  ack?: number;
  handler?: number;
  done?: number;
}
const STAGES = {
  'append: call -> commit returned': (m: Marks) => m.commit! - m.start!,
  'relay: commit -> read from the log': (m: Marks) => m.read! - m.commit!,
  'relay: read -> broker acknowledged': (m: Marks) => m.ack! - m.read!,
  'Kafka: acknowledged -> handler called': (m: Marks) => m.handler! - m.ack!,
  'consumer: handler -> effects committed': (m: Marks) => m.done! - m.handler!,
} as const;
type Stage = keyof typeof STAGES;

/** Offers `count` items at `rate` per second (0 = as fast as possible) through `offer`. */
async function offer(count: number, rate: number, batch: number, send: (from: number, n: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    if (rate > 0) {
      const due = start + (i / rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(send(i, n));
      if (inflight.length > 64) await inflight.shift();
    } else {
      inflight.push(send(i, n));
      if (inflight.length >= 4) await inflight.shift();
    }
  }
  await Promise.all(inflight);
}

async function rawKafkajs(kafka: Kafka, count: number, rate: number, sample: string): Promise<Result> {
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  const latencies: number[] = [];
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        last = Date.now();
        latencies.push(last - Number(message.timestamp));
        if (latencies.length === count) resolve();
      },
    });
  });
  // Let the group settle before timing, as the platform's consumer also joins before its phase.
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = Date.now();
  const cpu0 = cpuSample();
  await offer(count, rate, rate > 0 ? Math.max(1, Math.round(rate / 100)) : 500, async (from, n) => {
    const now = String(Date.now());
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, k) => ({
        key: `s${(from + k) % 50}`,
        value: sample.replace('"asset-0"', `"asset-${from + k}"`),
        timestamp: now,
      })),
    });
  });
  await done;
  const cpu = cpuPerEvent(cpu0, cpuSample(), count);
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return { scenario: 'raw kafkajs', events: count, eps: count / ((last - t0) / 1000), latencies, cpu };
}

/** The same raw produce -> consume as rawKafkajs, through @platformatic/kafka. */
async function rawPlatformatic(pk: PlatformaticKafka, brokers: string[], count: number, rate: number, sample: string): Promise<Result> {
  const topic = `bench-pk-${randomUUID().slice(0, 8)}`;
  const clientId = 'bench-platformatic';
  const admin = new pk.Admin({ clientId, bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
  await admin.close();
  const producer = new pk.Producer({ clientId, bootstrapBrokers: brokers, serializers: pk.stringSerializers, idempotent: true, acks: -1 });
  const consumer = new pk.Consumer({
    clientId,
    groupId: `${topic}-group`,
    bootstrapBrokers: brokers,
    deserializers: pk.stringDeserializers,
    sessionTimeout: 10_000,
    heartbeatInterval: 3_000,
  });
  const latencies: number[] = [];
  let last = 0;
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: true });
  const done = new Promise<void>((resolve) => {
    stream.on('data', (message: { timestamp: bigint }) => {
      last = Date.now();
      latencies.push(last - Number(message.timestamp));
      if (latencies.length === count) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = Date.now();
  // One send at a time, as kafkajs' producer with maxInFlightRequests 1 sends: with concurrent
  // sends its idempotent producer lost messages here (8,500 of 10,000 arrived, 4 sends in flight).
  let queue: Promise<unknown> = Promise.resolve();
  await offer(count, rate, rate > 0 ? Math.max(1, Math.round(rate / 100)) : 500, async (from, n) => {
    // Stamped when offered, as the kafkajs baseline's are: time queued behind a send counts.
    const now = BigInt(Date.now());
    const send = () =>
      producer.send({
        messages: Array.from({ length: n }, (_, k) => ({
          topic,
          key: `s${(from + k) % 50}`,
          value: sample.replace('"asset-0"', `"asset-${from + k}"`),
          timestamp: now,
        })),
      });
    await (queue = queue.then(send));
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`@platformatic/kafka: ${latencies.length} of ${count} messages arrived within 60 s`)), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
  await stream.close();
  await Promise.all([producer.close(), consumer.close(true)]);
  return { scenario: `raw @platformatic/kafka ${PLATFORMATIC_KAFKA_VERSION}`, events: count, eps: count / ((last - t0) / 1000), latencies, cpu: null };
}

async function platform(ds: import('typeorm').DataSource, brokers: string[], notifier: LogNotifier, count: number, rate: number): Promise<Result> {
  const log = `bench-${randomUUID().slice(0, 8)}`;
  const store = new PostgresEventStore(ds, contracts);
  await ds.query(`CREATE TABLE IF NOT EXISTS bench_effects (event_id uuid PRIMARY KEY, asset_id text)`);
  const latencies: number[] = [];
  let pending: EventEnvelope[] = [];
  let last = 0;
  // The relay may read an event before its appender sees the commit: each point sets its own field.
  const marks = new Map<string, Marks>();
  const mark = (eventId: string, point: keyof Marks, at: number) => {
    const m = marks.get(eventId) ?? {};
    m[point] = at;
    marks.set(eventId, m);
  };
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const retry = { maxAttempts: 5, retryDelayMs: 100, maxRetryDelayMs: 2000 };
  const delivery = new KafkaDelivery(
    ds,
    store,
    notifier,
    contracts,
    new Inbox(retry),
    { mode: 'kafka', brokers, clientId: 'bench', partitions: PARTITIONS, replicationFactor: 1, retry },
    {
      relayLogs: [log],
      relay: {
        batchSize: 500,
        pollIntervalMs: 1000,
        afterPublished: (events, readAt) => {
          const now = Date.now();
          for (const e of events) {
            mark(e.eventId, 'read', readAt);
            mark(e.eventId, 'ack', now);
          }
        },
      },
      handlers: [
        {
          consumer: 'bench-sink',
          context: log,
          handle: async (e, tx) => {
            mark(e.eventId, 'handler', Date.now());
            await tx.query('INSERT INTO bench_effects (event_id, asset_id) VALUES ($1, $2)', [e.eventId, (e.data as { assetId: string }).assetId]);
            pending.push(e);
          },
          // What a projection does for throughput: one multi-row statement per chunk.
          handleBatch: async (events, tx) => {
            const now = Date.now();
            for (const e of events) mark(e.eventId, 'handler', now);
            await tx.query('INSERT INTO bench_effects (event_id, asset_id) SELECT * FROM unnest($1::uuid[], $2::text[])', [
              events.map((e) => e.eventId),
              events.map((e) => (e.data as { assetId: string }).assetId),
            ]);
            pending.push(...events);
          },
        },
      ],
      consumer: {
        chunkSize: 500,
        sessionTimeout: 10_000,
        // The effects of the chunk are committed now: that is when an event counts as handled.
        afterEffectsCommitted: async () => {
          last = Date.now();
          for (const e of pending) {
            latencies.push(last - Date.parse(e.occurredAt));
            mark(e.eventId, 'done', last);
          }
          pending = [];
          if (latencies.length >= count) resolveDone();
        },
      },
    },
  );
  await delivery.start();
  await delivery.ready();
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = Date.now();
  const cpu0 = cpuSample();
  await offer(count, rate, rate > 0 ? Math.max(1, Math.round(rate / 100)) : 100, async (from, n) => {
    const start = Date.now();
    const appended = await store.append(
      log,
      `s${from % 50}-${from}`,
      Array.from({ length: n }, (_, k) => ({ type: 'AssetIngested', data: data(from + k) })),
      ctx,
      {
        expectedVersion: 'no_stream',
      },
    );
    const commit = Date.now();
    for (const e of appended.events) {
      mark(e.eventId, 'start', start);
      mark(e.eventId, 'commit', commit);
    }
  });
  await done;
  const cpu = cpuPerEvent(cpu0, cpuSample(), count);
  await delivery.stop();
  const stages = Object.fromEntries(Object.keys(STAGES).map((k) => [k, [] as number[]])) as Record<Stage, number[]>;
  for (const m of marks.values()) {
    if (Object.keys(m).length < 6) continue; // an event redelivered or not yet seen at every point
    for (const [k, of] of Object.entries(STAGES)) stages[k as Stage].push(of(m));
  }
  return { scenario: 'platform (append -> relay -> Kafka -> inbox + effect)', events: count, eps: count / ((last - t0) / 1000), latencies, cpu, stages };
}

async function main(): Promise<void> {
  const pg = await benchPostgres('messaging', Number(process.env.TRELLIS_BENCH_PG_PORT || 54359));
  const kafkaServer = benchKafka(Number(process.env.TRELLIS_BENCH_KAFKA_PORT || 19392));
  const ds = await createDataSource({ url: pg.url, poolSize: 16, migrations: MIGRATIONS });
  const notifier = new LogNotifier(pg.url);
  await notifier.start();
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: kafkaServer.brokers, logLevel: logLevel.NOTHING });
  try {
    // The same bytes the relay publishes: a stored envelope of this size.
    const sample = JSON.stringify(
      toKafkaMessage({
        eventId: randomUUID(),
        type: 'AssetIngested',
        schemaVersion: 1,
        log: 'bench',
        streamId: 's0',
        streamVersion: 1,
        position: 1,
        occurredAt: new Date().toISOString(),
        actor: ctx.actor,
        correlationId: randomUUID(),
        causationId: null,
        data: data(0),
        prevHash: '0'.repeat(64),
        hash: 'f'.repeat(64),
      }).value,
    );
    const rawSat = await rawKafkajs(kafka, N, 0, JSON.parse(sample));
    process.stderr.write(`  raw saturated: ${Math.round(rawSat.eps)} ev/s\n`);
    const platSat = await platform(ds, kafkaServer.brokers, notifier, N, 0);
    process.stderr.write(`  platform saturated: ${Math.round(platSat.eps)} ev/s\n`);
    const rate = Math.max(100, Math.round(Math.min(rawSat.eps / 2, platSat.eps * 0.8)));
    const paced = Math.min(N, rate * 10);
    const rawPaced = await rawKafkajs(kafka, paced, rate, JSON.parse(sample));
    process.stderr.write(
      `  raw paced at ${rate}/s: p99 ${percentile(
        [...rawPaced.latencies].sort((a, b) => a - b),
        99,
      )} ms\n`,
    );
    const platPaced = await platform(ds, kafkaServer.brokers, notifier, paced, rate);
    process.stderr.write(
      `  platform paced at ${rate}/s: p99 ${percentile(
        [...platPaced.latencies].sort((a, b) => a - b),
        99,
      )} ms\n`,
    );
    const pk = loadPlatformaticKafka();
    const pkSat = 'kafka' in pk ? await rawPlatformatic(pk.kafka, kafkaServer.brokers, N, 0, JSON.parse(sample)) : undefined;
    const pkPaced = 'kafka' in pk ? await rawPlatformatic(pk.kafka, kafkaServer.brokers, paced, rate, JSON.parse(sample)) : undefined;
    if ('why' in pk) console.log(`@platformatic/kafka ${pk.why}`);

    const row = (r: Result, phase: string) => {
      const s = [...r.latencies].sort((a, b) => a - b);
      return [`${r.scenario}, ${phase}`, String(r.events), Math.round(r.eps).toLocaleString('en-US'), String(percentile(s, 50)), String(percentile(s, 99))];
    };
    printTable(`Messaging benchmark: ${N} events saturated, ${paced} paced at ${rate} ev/s (baseline: plain kafkajs, same run)`, [
      ['scenario', 'events', 'ev/s', 'p50 ms', 'p99 ms'],
      row(rawSat, 'saturated'),
      row(platSat, 'saturated'),
      ...(pkSat ? [row(pkSat, 'saturated')] : []),
      row(rawPaced, `paced ${rate}/s`),
      row(platPaced, `paced ${rate}/s`),
      ...(pkPaced ? [row(pkPaced, `paced ${rate}/s`)] : []),
    ]);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const breakdown = (r: Result) =>
      Object.entries(r.stages!).map(([k, xs]) => [k, String(xs.length), String(percentile(sorted(xs), 50)), String(percentile(sorted(xs), 99))]);
    printTable(`Where the platform's time goes, paced at ${rate} ev/s (per event; the stages overlap at their edges, so p99s do not add up)`, [
      ['stage', 'events', 'p50 ms', 'p99 ms'],
      ...breakdown(platPaced),
    ]);
    printTable(`... and saturated`, [['stage', 'events', 'p50 ms', 'p99 ms'], ...breakdown(platSat)]);
    const cpuRow = (r: Result) => [r.scenario, ...(['bench', 'postgres', 'kafka', 'total'] as const).map((k) => String(r.cpu?.[k] ?? 'n/a'))];
    // Saturated, everything shares the machine's cores: what each side costs in CPU per event
    // tells how far a faster pipeline could go before the cores, not a wait, are the limit.
    printTable(`CPU per event, saturated (µs; the bench process runs the appender, the relay and the consumer in one Node.js thread)`, [
      ['scenario', 'bench process', 'PostgreSQL', 'Kafka broker', 'total'],
      cpuRow(rawSat),
      cpuRow(platSat),
    ]);
    const stageP = (r: Result, q: number) =>
      Object.fromEntries(
        Object.entries(r.stages!).map(([k, xs]) => [
          k
            .replace(/[^a-z]+/gi, '_')
            .replace(/^_|_$/g, '')
            .toLowerCase(),
          percentile(sorted(xs), q),
        ]),
      );
    const p = (r: Result, q: number) =>
      percentile(
        [...r.latencies].sort((a, b) => a - b),
        q,
      );
    console.log(
      JSON.stringify({
        events: N,
        raw_throughput_eps: Math.round(rawSat.eps),
        platform_throughput_eps: Math.round(platSat.eps),
        throughput_ratio_vs_raw_kafkajs: Number((platSat.eps / rawSat.eps).toFixed(3)),
        paced_rate_eps: rate,
        p50_ms: p(platPaced, 50),
        p99_ms: p(platPaced, 99),
        raw_p50_ms: p(rawPaced, 50),
        raw_p99_ms: p(rawPaced, 99),
        saturated_p99_ms: p(platSat, 99),
        platformatic_throughput_eps: pkSat ? Math.round(pkSat.eps) : null,
        platformatic_p50_ms: pkPaced ? p(pkPaced, 50) : null,
        platformatic_p99_ms: pkPaced ? p(pkPaced, 99) : null,
        cpu_us_per_event_saturated: { raw_kafkajs: rawSat.cpu, platform: platSat.cpu },
        paced_stage_p50_ms: stageP(platPaced, 50),
        paced_stage_p99_ms: stageP(platPaced, 99),
      }),
    );
  } finally {
    await notifier.stop();
    await ds.destroy();
    await pg.stop();
    kafkaServer.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
