import { createHash } from 'node:crypto';
import { canonicalJson, EventEnvelope } from '@trellis/contracts';

export type HashedFields = Omit<EventEnvelope, 'hash' | 'prevHash'>;

/** SHA-256 over the previous hash and the canonical form of every stored field of the event. */
export function hashEvent(prevHash: string, e: HashedFields): string {
  const body = canonicalJson({
    log: e.log,
    position: e.position,
    eventId: e.eventId,
    type: e.type,
    schemaVersion: e.schemaVersion,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    occurredAt: e.occurredAt,
    actor: { id: e.actor.id, role: e.actor.role },
    correlationId: e.correlationId,
    causationId: e.causationId,
    data: e.data,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}
