import type { Message, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { LogFollower, LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { toKafkaMessage } from './kafka-messages';

/** Bytes of event JSON per send; one event is at most MAX_EVENT_DATA_BYTES of data plus its envelope. */
const MAX_SEND_BYTES = 512 * 1024;

export interface RelayOptions {
  log: string;
  topic: string;
  batchSize?: number;
  pollIntervalMs?: number;
  maxRetryDelayMs?: number;
  onError?: (err: unknown) => void;
  /** Publish the envelope (default) or only the event's data (see toKafkaMessage). */
  payload?: 'envelope' | 'data';
  /**
   * Called once the broker acknowledged a batch, before its position is recorded, with when the
   * batch was read from the log (ms since the epoch): an observation point (the messaging
   * benchmark's latency breakdown).
   */
  afterPublished?: (events: readonly EventEnvelope[], readAt: number) => void;
}

/**
 * The log is the outbox: publishes every event of one log to its topic, in log order, and
 * records how far it got only after the broker acknowledged (acks from all in-sync replicas,
 * idempotent producer). Killed at any point it loses nothing; it may publish a batch twice,
 * which the consumers' inbox absorbs. The position row is locked while a batch is in flight,
 * so relay replicas of one log take turns instead of racing.
 */
export class KafkaRelay {
  private lastError?: string;
  private readonly follower: LogFollower;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly producer: Producer,
    private readonly notifier: LogNotifier | undefined,
    private readonly options: RelayOptions,
  ) {
    this.follower = new LogFollower(options.log, notifier);
  }

  get id(): string {
    return `relay:${this.options.log}:${this.options.topic}`;
  }

  get log(): string {
    return this.options.log;
  }

  async start(): Promise<void> {
    if (this.follower.running) return;
    await this.dataSource.query('INSERT INTO trellis_relay_positions (relay_id, log, topic) VALUES ($1, $2, $3) ON CONFLICT (relay_id) DO NOTHING', [
      this.id,
      this.options.log,
      this.options.topic,
    ]);
    this.follower.launch(() => this.run());
  }

  async stop(): Promise<void> {
    await this.follower.halt(`relay ${this.id}`);
  }

  async status(): Promise<{ log: string; topic: string; position: number; head: number; lastError?: string }> {
    const [row] = await this.dataSource.query('SELECT position FROM trellis_relay_positions WHERE relay_id = $1', [this.id]);
    return {
      log: this.options.log,
      topic: this.options.topic,
      position: Number(row?.position ?? 0),
      head: await this.store.headPosition(this.options.log),
      lastError: this.lastError,
    };
  }

  /** Resolves once everything up to `position` is acknowledged by the broker. */
  waitFor(position: number): Promise<void> {
    return this.follower.waitFor(position);
  }

  private async run(): Promise<void> {
    let delay = 100;
    while (this.follower.running) {
      let published = 0;
      try {
        published = await this.publishBatch();
        this.lastError = undefined;
        delay = 100;
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.options.onError?.(err);
        await this.follower.idle(delay, false);
        delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 5000);
        continue;
      }
      if (published < (this.options.batchSize ?? 500) && this.follower.running) await this.follower.idle(this.options.pollIntervalMs ?? 1000);
    }
  }

  private async publishBatch(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    const result = await withTransaction(this.dataSource, async (tx) => {
      const [row] = await tx.query('SELECT position FROM trellis_relay_positions WHERE relay_id = $1 FOR UPDATE', [this.id]);
      const from = Number(row.position);
      const read = await this.store.readLog(this.options.log, from, batchSize, tx, true);
      if (read.length === 0) return { count: 0, position: from };
      const readAt = Date.now();
      // Stay well under the broker's message.max.bytes (1 MiB by default) for any partition.
      const messages: Message[] = [];
      let bytes = 0;
      for (const e of read) {
        const m = toKafkaMessage(e, this.options.payload);
        bytes += (m.value as string).length;
        if (messages.length > 0 && bytes > MAX_SEND_BYTES) break;
        messages.push(m);
      }
      const events = read.slice(0, messages.length);
      await this.producer.send({ topic: this.options.topic, acks: -1, messages });
      this.options.afterPublished?.(events, readAt);
      const last = events[events.length - 1].position;
      await tx.query('UPDATE trellis_relay_positions SET position = $2, updated_at = now() WHERE relay_id = $1', [this.id, last]);
      return { count: events.length, position: last };
    });
    this.follower.advance(result.position);
    return result.count;
  }
}
