import type { EventEnvelope, Role } from '@trellis/contracts';

/** A row of trellis_events as node-postgres returns it. */
export interface EventRow {
  log: string;
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  occurred_at: Date;
  actor_id: string;
  actor_role: string;
  correlation_id: string;
  causation_id: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
}

export const EVENT_COLUMNS =
  'log, position, event_id, stream_id, stream_version, type, schema_version, occurred_at, actor_id, actor_role, correlation_id, causation_id, data, prev_hash, hash';

export function rowToEnvelope(r: EventRow): EventEnvelope {
  return {
    log: r.log,
    position: Number(r.position),
    eventId: r.event_id,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    type: r.type,
    schemaVersion: r.schema_version,
    occurredAt: r.occurred_at.toISOString(),
    actor: { id: r.actor_id, role: r.actor_role as Role },
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
