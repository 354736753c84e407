import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';

/**
 * Where appended registry events go besides the read model, in the same transaction: the webhook
 * deliveries. An interface so that the streams do not depend on how webhooks are kept.
 */
export abstract class RegistryEventsOutbox {
  abstract enqueue(tx: QueryRunner, envelope: EventEnvelope): Promise<void>;
}
