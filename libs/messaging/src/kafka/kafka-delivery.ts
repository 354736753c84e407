import { Admin, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { EventContractRegistry, topicFor } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import type { EventHandler } from '../event-handler';
import type { DeliveryStatus, EventDelivery } from '../event-delivery';
import { Inbox } from '../inbox';
import type { MessagingConfig } from '../messaging.config';
import { KafkaEventConsumer, KafkaConsumerOptions } from './kafka-event-consumer';
import { dlqTopicOf } from './kafka-messages';
import { KafkaRelay, RelayOptions } from './kafka-relay';

export interface KafkaDeliveryOptions {
  /** Logs this process owns and relays to Kafka. */
  relayLogs: string[];
  /** Of those, the logs published as their events' data alone (see toKafkaMessage). */
  dataOnlyLogs?: string[];
  handlers: EventHandler[];
  consumer?: Partial<Pick<KafkaConsumerOptions, 'chunkSize' | 'sessionTimeout' | 'afterEffectsCommitted'>>;
  relay?: Pick<RelayOptions, 'batchSize' | 'pollIntervalMs' | 'afterPublished'>;
  log?: (message: string) => void;
}

export const consumerGroupOf = (consumer: string, topic: string) => `trellis.${consumer}.${topic}`;

/** The distributed profile: relays for the logs this process owns, consumer groups for its handlers. */
export class KafkaDelivery implements EventDelivery {
  readonly mode = 'kafka' as const;
  readonly kafka: Kafka;
  private admin?: Admin;
  private producer?: Producer;
  private relays: KafkaRelay[] = [];
  private consumers: { handler: EventHandler; consumer: KafkaEventConsumer; topic: string }[] = [];
  private stopped = false;
  private connected = false;
  private startup?: Promise<void>;
  private startError?: string;
  private wakeRetry?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier: LogNotifier | undefined,
    private readonly registry: EventContractRegistry,
    private readonly inbox: Inbox,
    private readonly config: MessagingConfig,
    private readonly options: KafkaDeliveryOptions,
  ) {
    const log = options.log ?? (() => undefined);
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      logLevel: logLevel.ERROR,
      logCreator:
        () =>
        ({ namespace, log: entry }) =>
          log(`[kafkajs ${namespace}] ${entry.message}`),
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  /**
   * Connects in the background and keeps retrying while the broker is away: appends go on (the
   * log is the outbox) and health says degraded. `ready()` resolves once connected.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.startup = this.connectWithRetry();
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.connected) resolve();
        else if (this.stopped) reject(new Error('delivery stopped before it connected'));
        else setTimeout(check, 50);
      };
      check();
    });
  }

  private async connectWithRetry(): Promise<void> {
    let delay = 1000;
    while (!this.stopped) {
      try {
        await this.connect();
        this.connected = true;
        this.startError = undefined;
        return;
      } catch (err) {
        this.startError = `cannot reach Kafka at ${this.config.brokers.join(',')}: ${(err as Error).message}`;
        this.options.log?.(`${this.startError}; retrying in ${delay} ms`);
        await this.disconnectAll();
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wakeRetry = () => (clearTimeout(t), resolve());
        });
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private async connect(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.ensureTopics();
    // Idempotent producer with one request in flight: retries cannot reorder a stream.
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    for (const log of this.options.relayLogs) {
      const relay = new KafkaRelay(this.dataSource, this.store, this.producer, this.notifier, {
        log,
        topic: topicFor(log),
        payload: this.options.dataOnlyLogs?.includes(log) ? 'data' : 'envelope',
        ...this.options.relay,
      });
      this.relays.push(relay);
      await relay.start();
    }
    for (const handler of this.options.handlers) {
      const topic = topicFor(handler.context);
      const consumer = new KafkaEventConsumer(this.dataSource, this.kafka, this.producer, this.registry, this.inbox, handler, {
        topic,
        groupId: consumerGroupOf(handler.consumer, topic),
        partitionsConcurrently: this.config.partitions,
        payload: this.options.dataOnlyLogs?.includes(handler.context) ? 'data' : 'envelope',
        ...this.options.consumer,
      });
      this.consumers.push({ handler, consumer, topic });
      await consumer.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    await this.startup;
    await this.disconnectAll();
    this.connected = false;
  }

  private async disconnectAll(): Promise<void> {
    for (const c of this.consumers) await c.consumer.stop().catch(() => undefined);
    for (const r of this.relays) await r.stop();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.consumers = [];
    this.relays = [];
    this.producer = undefined;
    this.admin = undefined;
  }

  relayFor(log: string): KafkaRelay | undefined {
    return this.relays.find((r) => r.log === log);
  }

  async status(): Promise<DeliveryStatus> {
    const status: DeliveryStatus = { mode: this.mode, broker: { reachable: false }, relays: [], consumers: [] };
    for (const r of this.relays) status.relays.push(await r.status());
    try {
      if (!this.connected || !this.admin) throw new Error(this.startError ?? 'connecting');
      await withTimeout(this.admin.describeCluster(), 3000);
      status.broker = { reachable: true };
    } catch (err) {
      status.broker = { reachable: false, error: (err as Error).message };
    }
    for (const c of this.consumers) {
      const base = {
        consumer: c.handler.consumer,
        context: c.handler.context,
        group: c.consumer.groupId,
        partitions: c.consumer.partitions,
        lastError: c.consumer.error,
      };
      // A lag lookup can fail on its own (a topic still being created, a group coordinator
      // moving) while the broker is fine: that is the consumer's problem, not the broker's.
      const lag = status.broker.reachable ? await this.lagOf(c.topic, c.consumer.groupId).catch(() => null) : null;
      status.consumers.push({ ...base, lag });
    }
    return status;
  }

  private async lagOf(topic: string, groupId: string): Promise<number> {
    const admin = this.admin!;
    const [ends, committed] = await withTimeout(Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]), 3000);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    let lag = 0n;
    for (const p of ends) {
      const at = done.get(p.partition) ?? -1n;
      lag += BigInt(p.high) - (at < 0n ? BigInt(p.low) : at);
    }
    return Number(lag);
  }

  /** Each topic and its dead-letter topic, with the configured partitions and replication. */
  private async ensureTopics(): Promise<void> {
    const wanted = new Set<string>();
    for (const log of this.options.relayLogs) wanted.add(topicFor(log));
    for (const h of this.options.handlers) wanted.add(topicFor(h.context));
    for (const t of [...wanted]) wanted.add(dlqTopicOf(t));
    const existing = new Set(await this.admin!.listTopics());
    const missing = [...wanted].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await this.admin!.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: this.config.partitions, replicationFactor: this.config.replicationFactor })),
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer from the broker within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
