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

/** `data`: canonicalJson(e.data), when the caller has it already. */
export function canonicalPieces(e: Omit<HashedFields, 'position' | 'streamVersion'>, data = canonicalJson(e.data)): CanonicalPieces {
  return {
    head:
      `{"actor":${canonicalJson({ id: e.actor.id, role: e.actor.role })},"causationId":${canonicalJson(e.causationId)},` +
      `"correlationId":${canonicalJson(e.correlationId)},"data":${data},"eventId":${canonicalJson(e.eventId)},` +
      `"log":${canonicalJson(e.log)},"occurredAt":${canonicalJson(e.occurredAt)},"position":`,
    middle: `,"schemaVersion":${canonicalJson(e.schemaVersion)},"streamId":${canonicalJson(e.streamId)},"streamVersion":`,
    tail: `,"type":${canonicalJson(e.type)}}`,
  };
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
