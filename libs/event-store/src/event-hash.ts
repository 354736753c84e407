import { createHash } from 'node:crypto';
import { canonicalJson, EventEnvelope } from '@trellis/contracts';

export type HashedFields = Omit<EventEnvelope, 'hash' | 'prevHash'>;

/**
 * The canonical text of an event is canonicalJson of all its stored fields. Position and stream
 * version are only known once the log head is (from the cached head, checked under the log's
 * lock by trellis_append_rows), so the text is prepared in three pieces beforehand and only
 * numbers and the previous hash are joined then.
 * (Top-level keys in canonical order: actor, causationId, correlationId, data, eventId, log,
 * occurredAt, position, schemaVersion, streamId, streamVersion, type.)
 */
export interface CanonicalPieces {
  head: string;
  middle: string;
  tail: string;
}

/** The fields every event of one append shares. */
export type SharedFields = Pick<HashedFields, 'actor' | 'causationId' | 'correlationId' | 'log' | 'occurredAt' | 'streamId'>;

/**
 * canonicalPieces for the events of one append: the text of the fields they share is written
 * once, and each event adds its own id, type, schema version and data (already canonical).
 */
export function canonicalPiecesFor(shared: SharedFields): (eventId: string, type: string, schemaVersion: number, data: string) => CanonicalPieces {
  const beforeData =
    `{"actor":${canonicalJson({ id: shared.actor.id, role: shared.actor.role })},"causationId":${canonicalJson(shared.causationId)},` +
    `"correlationId":${canonicalJson(shared.correlationId)},"data":`;
  const afterEventId = `,"log":${canonicalJson(shared.log)},"occurredAt":${canonicalJson(shared.occurredAt)},"position":`;
  const streamId = `,"streamId":${canonicalJson(shared.streamId)},"streamVersion":`;
  return (eventId, type, schemaVersion, data) => ({
    head: `${beforeData}${data},"eventId":${canonicalJson(eventId)}${afterEventId}`,
    middle: `,"schemaVersion":${canonicalJson(schemaVersion)}${streamId}`,
    tail: `,"type":${canonicalJson(type)}}`,
  });
}

/** `data`: canonicalJson(e.data), when the caller has it already. */
export function canonicalPieces(e: Omit<HashedFields, 'position' | 'streamVersion'>, data = canonicalJson(e.data)): CanonicalPieces {
  return canonicalPiecesFor(e)(e.eventId, e.type, e.schemaVersion, data);
}

export function hashPieces(prevHash: string, p: CanonicalPieces, position: number, streamVersion: number): string {
  return createHash('sha256')
    .update(`${prevHash}\n${p.head}${canonicalJson(position)}${p.middle}${canonicalJson(streamVersion)}${p.tail}`)
    .digest('hex');
}

/** SHA-256 over the previous hash, a newline and the canonical text of the event. */
export function hashEvent(prevHash: string, e: HashedFields): string {
  return hashPieces(prevHash, canonicalPieces(e), e.position, e.streamVersion);
}
