import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';

/**
 * A consuming service's handler for the events of one context. It never knows whether Kafka or
 * the in-process path feeds it. Every write goes through `tx`, which also records the event as
 * processed by `consumer`, so the effect happens exactly once.
 */
export interface EventHandler {
  /** The consuming service, e.g. `lineage`; the inbox and the consumer group are per consumer. */
  consumer: string;
  /** The context (log) whose events it receives, e.g. `ingestion`. */
  context: string;
  handle(event: EventEnvelope, tx: QueryRunner): Promise<void>;
  /**
   * Optional: applies many events at once (e.g. one multi-row INSERT), for throughput. If it
   * throws, the batch is undone and replayed through `handle`, one event at a time, so that a
   * poison event is isolated and dead-lettered alone.
   */
  handleBatch?(events: EventEnvelope[], tx: QueryRunner): Promise<void>;
}
