import type { QueryRunner } from 'typeorm';
import { AppendContext, EventContractRegistry, EventEnvelope, GENESIS_HASH, NewEvent } from '@trellis/contracts';
import { AppendOptions, AppendResult, assertExpectedVersion, EventStreamStore } from '@trellis/event-store';

/**
 * The stream half of the event store in memory, for unit tests of code that runs commands:
 * the same expected-version rule and contract validation as PostgresEventStore, no hash chain.
 * Records which query runner each call was given, so a test can tell it joined a transaction.
 */
export class InMemoryEventStore implements EventStreamStore {
  private readonly streams = new Map<string, EventEnvelope[]>();
  private position = 0;
  readonly runners: { call: 'readStream' | 'append'; runner: QueryRunner | undefined }[] = [];

  constructor(private readonly contracts: EventContractRegistry) {}

  async readStream(log: string, streamId: string, fromVersion = 1, runner?: QueryRunner): Promise<EventEnvelope[]> {
    this.runners.push({ call: 'readStream', runner });
    return (this.streams.get(`${log}/${streamId}`) ?? []).filter((e) => e.streamVersion >= fromVersion);
  }

  async append(log: string, streamId: string, events: NewEvent[], context: AppendContext, options: AppendOptions): Promise<AppendResult> {
    this.runners.push({ call: 'append', runner: options.queryRunner });
    const stream = this.streams.get(`${log}/${streamId}`) ?? [];
    assertExpectedVersion(streamId, stream.length, options.expectedVersion);
    const envelopes = events.map((e, i): EventEnvelope => {
      const schemaVersion = e.schemaVersion ?? this.contracts.currentVersion(e.type);
      return {
        eventId: `event-${this.position + i + 1}`,
        type: e.type,
        schemaVersion,
        log,
        streamId,
        streamVersion: stream.length + i + 1,
        position: this.position + i + 1,
        occurredAt: new Date(0).toISOString(),
        actor: context.actor,
        correlationId: context.correlationId ?? `correlation-${this.position + 1}`,
        causationId: context.causationId ?? null,
        data: this.contracts.validate(e.type, schemaVersion, e.data),
        prevHash: GENESIS_HASH,
        hash: GENESIS_HASH,
      };
    });
    this.position += envelopes.length;
    this.streams.set(`${log}/${streamId}`, [...stream, ...envelopes]);
    const last = envelopes[envelopes.length - 1];
    return { streamVersion: last.streamVersion, firstPosition: envelopes[0].position, lastPosition: last.position, events: envelopes };
  }

  /** Writes events as stored, bypassing validation: a stream as an older (or broken) writer left it. */
  seed(log: string, streamId: string, events: { type: string; schemaVersion: number; data: unknown }[]): void {
    const stream = this.streams.get(`${log}/${streamId}`) ?? [];
    for (const e of events) {
      this.position += 1;
      stream.push({
        eventId: `event-${this.position}`,
        ...e,
        log,
        streamId,
        streamVersion: stream.length + 1,
        position: this.position,
        occurredAt: new Date(0).toISOString(),
        actor: { id: 'seed', role: 'admin' },
        correlationId: 'seed',
        causationId: null,
        prevHash: GENESIS_HASH,
        hash: GENESIS_HASH,
      });
    }
    this.streams.set(`${log}/${streamId}`, stream);
  }
}
