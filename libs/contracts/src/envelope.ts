import type { Role } from './roles';

export interface Actor {
  /** Pseudonymous principal id; never a name or e-mail address. */
  id: string;
  role: Role;
}

/** What a caller hands to the event store; the store fills in ids, positions and hashes. */
export interface NewEvent<TData = unknown> {
  type: string;
  /** Defaults to the newest registered version of the type. */
  schemaVersion?: number;
  data: TData;
}

export interface AppendContext {
  actor: Actor;
  correlationId?: string;
  causationId?: string | null;
}

/** The stored, hash-chained form of an event (DESIGN.md "Events are the source of truth"). */
export interface EventEnvelope<TData = unknown> {
  eventId: string;
  type: string;
  schemaVersion: number;
  /** The log (one per bounded context, e.g. `ingestion`) the event belongs to. */
  log: string;
  streamId: string;
  streamVersion: number;
  /** Position in the log, starting at 1, without gaps. */
  position: number;
  occurredAt: string;
  actor: Actor;
  correlationId: string;
  causationId: string | null;
  data: TData;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
