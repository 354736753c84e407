import type { Message } from 'kafkajs';
import type { EventEnvelope } from '@trellis/contracts';

export const HEADER = {
  eventType: 'trellis-event-type',
  schemaVersion: 'trellis-schema-version',
  correlationId: 'trellis-correlation-id',
  eventId: 'trellis-event-id',
  dlqReason: 'trellis-dlq-reason',
  dlqConsumer: 'trellis-dlq-consumer',
  dlqAttempts: 'trellis-dlq-attempts',
  dlqSourceTopic: 'trellis-dlq-source-topic',
  dlqSourcePartition: 'trellis-dlq-source-partition',
  dlqSourceOffset: 'trellis-dlq-source-offset',
} as const;

export const dlqTopicOf = (topic: string) => `${topic}.dlq`;

/**
 * An event as published: keyed by stream id (order per stream), the stored envelope as JSON, or
 * only its data for a log whose data is a published standard other tools read as it is
 * (OpenLineage run events); the headers still say which event it is.
 */
export function toKafkaMessage(e: EventEnvelope, payload: 'envelope' | 'data' = 'envelope'): Message {
  return {
    key: e.streamId,
    value: JSON.stringify(payload === 'data' ? e.data : e),
    headers: {
      [HEADER.eventType]: e.type,
      [HEADER.schemaVersion]: String(e.schemaVersion),
      [HEADER.correlationId]: e.correlationId,
      [HEADER.eventId]: e.eventId,
    },
  };
}
