import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AppendContext, EventContractRegistry, EventEnvelope } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { EventHandler, Inbox, RetryPolicy } from '@trellis/messaging';
import { testContracts, uniqueName } from '@trellis/testing';

/** What the shared behaviour suite needs from a delivery, whichever transport is underneath. */
export interface DeliveryHarness {
  readonly name: string;
  start(handlers: EventHandler[]): Promise<void>;
  stop(): Promise<void>;
  /** Makes the consumer see everything again from the start of the log (the inbox must hold). */
  rewind(handler: EventHandler): Promise<void>;
  /** Puts something on the transport that is not a valid event at all. */
  injectMalformed(context: string, streamId: string): Promise<void>;
  deadLetters(consumer: string, context: string): Promise<{ reason: string; eventId?: string; attempts: number }[]>;
  /** Resolves once the handler's consumer has dealt with everything in its log. */
  drained(handler: EventHandler): Promise<void>;
  close(): Promise<void>;
}

export const RETRY: RetryPolicy = { maxAttempts: 3, retryDelayMs: 10, maxRetryDelayMs: 50 };
export const ctx: AppendContext = { actor: { id: 'prn-messaging-test', role: 'steward' } };

/** The consumers know testContracts(); the producer also knows ThingArchived, which they do not. */
export function producerContracts(): EventContractRegistry {
  return testContracts().register({ type: 'ThingArchived', version: 1, schema: z.object({ thingId: z.string() }) });
}

export interface Shared {
  ds: DataSource;
  store: PostgresEventStore;
  notifier: LogNotifier;
  inbox: Inbox;
  consumerRegistry: EventContractRegistry;
}

/** A table of effects and a handler that writes one row per event through the inbox transaction. */
export async function effectsHandler(
  ds: DataSource,
  context: string,
  poisonStream?: string,
  existingTable?: string,
): Promise<{ handler: EventHandler; table: string; rows(): Promise<{ event_id: string; stream_id: string; stream_version: number; position: string }[]> }> {
  const table = existingTable ?? `fx_${uniqueName('t').replace(/-/g, '_')}`;
  if (!existingTable) await ds.query(`CREATE TABLE ${table} (seq bigserial, event_id uuid, stream_id text, stream_version int, position bigint)`);
  const handler: EventHandler = {
    consumer: uniqueName('consumer'),
    context,
    handle: async (e: EventEnvelope, tx) => {
      if (e.streamId === poisonStream) throw new Error(`poison event ${e.streamId}`);
      await tx.query(`INSERT INTO ${table} (event_id, stream_id, stream_version, position) VALUES ($1, $2, $3, $4)`, [
        e.eventId,
        e.streamId,
        e.streamVersion,
        e.position,
      ]);
    },
  };
  return { handler, table, rows: () => ds.query(`SELECT event_id, stream_id, stream_version, position FROM ${table} ORDER BY seq`) };
}
