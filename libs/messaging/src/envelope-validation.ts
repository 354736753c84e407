import { isDeepStrictEqual } from 'node:util';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { ContractException, EventContractRegistry, EventEnvelope, isRole, LOWERCASE_UUID_PATTERN } from '@trellis/contracts';
import { EVENT_COLUMNS, EventRow, rowToEnvelope } from '@trellis/event-store';
import { HEADER } from './kafka/kafka-messages';

// Lowercase only: the inbox compares ids with what PostgreSQL returns.
const uuid = () => z.string().regex(LOWERCASE_UUID_PATTERN, 'must be a lowercase UUID');

const EnvelopeSchema = z.object({
  eventId: uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  log: z.string().min(1),
  streamId: z.string().min(1),
  streamVersion: z.number().int().positive(),
  position: z.number().int().positive(),
  occurredAt: z.string().datetime(),
  actor: z.object({ id: z.string().min(1), role: z.string().refine(isRole, 'unknown role') }),
  correlationId: uuid(),
  causationId: uuid().nullable(),
  data: z.unknown(),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

export type Validated = { ok: true; event: EventEnvelope } | { ok: false; reason: string; event?: Partial<EventEnvelope> };

/**
 * Checks an envelope against its contract before any handler sees it: known type and version,
 * data valid for that version, then upcast to the current version.
 */
export function validateEnvelope(candidate: unknown, registry: EventContractRegistry): Validated {
  const parsed = EnvelopeSchema.safeParse(candidate);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'envelope'}: ${i.message}`).join('; ');
    return { ok: false, reason: `malformed envelope: ${detail}`, event: candidate as Partial<EventEnvelope> };
  }
  const e = parsed.data as EventEnvelope;
  try {
    const data = registry.validate(e.type, e.schemaVersion, e.data);
    const up = registry.upcast(e.type, e.schemaVersion, data);
    return { ok: true, event: { ...e, schemaVersion: up.version, data: up.data } };
  } catch (err) {
    if (err instanceof ContractException) return { ok: false, reason: `${err.code}: ${err.message}`, event: e };
    // An upcaster that chokes on data its schema accepted is a bug, but must not stall the consumer.
    return { ok: false, reason: `upcasting ${e.type} v${e.schemaVersion} failed: ${(err as Error).message}`, event: e };
  }
}

/** Parses the bytes of a Kafka message, then validates them like any envelope. */
export function decodeMessage(value: Buffer | null, registry: EventContractRegistry): Validated {
  if (!value || value.length === 0) return { ok: false, reason: 'malformed message: empty value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `malformed message: not JSON (${(err as Error).message})` };
  }
  return validateEnvelope(json, registry);
}

/**
 * Messages of a topic that carries events' data alone: each names its event in the
 * `trellis-event-id` header; the stored envelope is read back (one statement per chunk), its data
 * must equal the message's, and it is validated like any envelope. A message without the header
 * (not published by Trellis) or whose event is not stored is refused with the reason.
 */
export async function decodeDataMessages(dataSource: DataSource, messages: KafkaMessage[], registry: EventContractRegistry): Promise<Validated[]> {
  const ids = messages.map((m) => {
    const id = m.headers?.[HEADER.eventId]?.toString();
    return id && LOWERCASE_UUID_PATTERN.test(id) ? id : undefined;
  });
  const wanted = [...new Set(ids.filter((id): id is string => id !== undefined))];
  const rows: EventRow[] = wanted.length
    ? await dataSource.query(`SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE event_id = ANY($1::uuid[])`, [wanted])
    : [];
  const stored = new Map(rows.map((r) => [r.event_id, r]));
  return messages.map((m, i): Validated => {
    const id = ids[i];
    if (!id) return { ok: false, reason: `malformed message: no ${HEADER.eventId} header with a lowercase UUID (not published by Trellis)` };
    const row = stored.get(id);
    if (!row) return { ok: false, reason: `event ${id} is not in the event store` };
    let json: unknown;
    try {
      json = JSON.parse(m.value?.toString('utf8') ?? '');
    } catch (err) {
      return { ok: false, reason: `malformed message: not JSON (${(err as Error).message})` };
    }
    if (!isDeepStrictEqual(json, row.data)) return { ok: false, reason: `the message's data differs from stored event ${id}` };
    return validateEnvelope(JSON.parse(JSON.stringify(rowToEnvelope(row))), registry);
  });
}
