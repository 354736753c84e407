import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { withTransaction } from '@trellis/common';
import { EventContractRegistry, EventEnvelope } from '@trellis/contracts';
import type { EventHandler } from '../event-handler';
import { decodeDataMessages, decodeMessage } from '../envelope-validation';
import { Inbox } from '../inbox';
import { dlqTopicOf, HEADER } from './kafka-messages';

export interface KafkaConsumerOptions {
  topic: string;
  groupId: string;
  /** Messages handled per PostgreSQL transaction. */
  chunkSize?: number;
  sessionTimeout?: number;
  /** Partitions handled at once, each in its own transactions; order holds within a partition. */
  partitionsConcurrently?: number;
  /** Called after a chunk's effects committed and before its offsets are: an observation point. */
  afterEffectsCommitted?: (lastOffset: string) => Promise<void>;
  onError?: (err: unknown) => void;
  /**
   * `data`: the topic carries each event's data alone (a standard other tools read as it is,
   * e.g. OpenLineage); the consumer finds the stored event by the `trellis-event-id` header and
   * hands that on, so handlers still see the whole envelope (log, position, actor).
   */
  payload?: 'envelope' | 'data';
}

/**
 * One consumer group per consuming service and topic. Each message is parsed and validated
 * against its contract before the handler sees it; effects and inbox records commit in one
 * PostgreSQL transaction per chunk; unparseable, unknown, invalid and poison messages go to
 * `<topic>.dlq` with the reason and original offset; offsets are committed only after both.
 */
export class KafkaEventConsumer {
  private consumer?: Consumer;
  private lastError?: string;
  private stopping = false;
  private inFlight = 0;
  private drained?: () => void;
  private assigned: number[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: Kafka,
    private readonly dlqProducer: Producer,
    private readonly registry: EventContractRegistry,
    private readonly inbox: Inbox,
    private readonly handler: EventHandler,
    private readonly options: KafkaConsumerOptions,
  ) {}

  get groupId(): string {
    return this.options.groupId;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** The partitions of the topic the group gave this process at its last join: replicas of a service split them. */
  get partitions(): number[] {
    return this.assigned;
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.options.sessionTimeout ?? 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = [...(payload.memberAssignment[this.options.topic] ?? [])].sort((a, b) => a - b);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.lastError = payload.error?.message;
      this.options.onError?.(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (this.stopping) return;
        this.inFlight++;
        try {
          const chunkSize = this.options.chunkSize ?? 200;
          for (let i = 0; i < batch.messages.length; i += chunkSize) {
            if (this.stopping || !isRunning() || isStale()) return;
            const chunk = batch.messages.slice(i, i + chunkSize);
            await this.handleChunk(batch.topic, batch.partition, chunk, heartbeat);
            const last = chunk[chunk.length - 1].offset;
            await this.options.afterEffectsCommitted?.(last);
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            resolveOffset(last);
            await heartbeat();
          }
        } finally {
          this.inFlight--;
          if (this.inFlight === 0) this.drained?.();
        }
      },
    });
    this.consumer = consumer;
  }

  /**
   * Lets the chunk in flight finish and commit its offsets, then leaves the group. (kafkajs
   * itself would finish the batch but silently drop offset commits made while it stops.)
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.consumer?.disconnect();
    this.consumer = undefined;
    this.stopping = false;
  }

  private async handleChunk(topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>): Promise<void> {
    const results =
      this.options.payload === 'data'
        ? await decodeDataMessages(this.dataSource, messages, this.registry)
        : messages.map((m) => decodeMessage(m.value, this.registry));
    const decoded = messages.map((m, i) => ({ message: m, result: results[i] }));
    const valid = decoded.filter((d) => d.result.ok) as { message: KafkaMessage; result: { ok: true; event: EventEnvelope } }[];
    const outcomes = await withTransaction(this.dataSource, (tx) =>
      this.inbox.deliverBatch(
        tx,
        this.handler,
        valid.map((v) => v.result.event),
        heartbeat,
      ),
    );
    const dead: { message: KafkaMessage; reason: string; attempts: number }[] = [];
    for (const d of decoded) if (!d.result.ok) dead.push({ message: d.message, reason: d.result.reason, attempts: 0 });
    outcomes.forEach((o, i) => {
      if (o.status === 'failed') dead.push({ message: valid[i].message, reason: o.reason, attempts: o.attempts });
    });
    if (dead.length === 0) return;
    dead.sort((a, b) => (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
    await this.dlqProducer.send({
      topic: dlqTopicOf(topic),
      acks: -1,
      messages: dead.map(({ message, reason, attempts }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [HEADER.dlqReason]: reason.slice(0, 2000),
          [HEADER.dlqConsumer]: this.handler.consumer,
          [HEADER.dlqAttempts]: String(attempts),
          [HEADER.dlqSourceTopic]: topic,
          [HEADER.dlqSourcePartition]: String(partition),
          [HEADER.dlqSourceOffset]: message.offset,
        },
      })),
    });
  }
}
