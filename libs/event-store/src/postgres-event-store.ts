import { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import { v7 as uuidv7 } from 'uuid';
import {
  AppendContext,
  EventContractRegistry,
  EventEnvelope,
  GENESIS_HASH,
  isRole,
  NewEvent,
} from '@trellis/contracts';
import { assertExpectedVersion, ExpectedVersion } from './expected-version';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';
import { hashEvent } from './event-hash';
import { EVENT_COLUMNS, EventRow, rowToEnvelope } from './event-row';

export const EVENTS_CHANNEL = 'trellis_events';

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /** Joins the caller's transaction, so that the events and another effect commit together. */
  queryRunner?: QueryRunner;
}

export interface AppendResult {
  streamVersion: number;
  firstPosition: number;
  lastPosition: number;
  events: EventEnvelope[];
}

export type VerifyResult =
  | { ok: true; log: string; lastPosition: number; checked: number }
  | { ok: false; log: string; position: number; reason: string; checked: number };

export interface EventStoreClock {
  now(): Date;
}

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;
const LOG_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Append-only, hash-chained event log in PostgreSQL.
 *
 * Appends to one log are serialized by a row lock on its head, held until commit. That is what
 * the hash chain needs anyway (each event hashes its predecessor), and it means positions become
 * visible strictly in order: a reader that has seen position N has seen everything before it, so
 * catch-up subscriptions can never skip an event committed "late".
 */
export class PostgresEventStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EventContractRegistry,
    private readonly clock: EventStoreClock = { now: () => new Date() },
    private readonly newId: () => string = uuidv7,
  ) {}

  get contracts(): EventContractRegistry {
    return this.registry;
  }

  async append(
    log: string,
    streamId: string,
    events: NewEvent[],
    context: AppendContext,
    options: AppendOptions,
  ): Promise<AppendResult> {
    const prepared = this.prepare(log, streamId, events, context);
    if (options.queryRunner) return this.appendWith(options.queryRunner, log, streamId, prepared, context, options);

    return withTransaction(this.dataSource, (tx) => this.appendWith(tx, log, streamId, prepared, context, options));
  }

  async readStream(log: string, streamId: string, fromVersion = 1): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND stream_id = $2 AND stream_version >= $3 ORDER BY stream_version`,
      [log, streamId, fromVersion],
    );
    return rows.map((r) => this.upcast(rowToEnvelope(r)));
  }

  /** Events of a log with position > `afterPosition`, in log order. */
  async readLog(log: string, afterPosition = 0, limit = 1000, runner?: QueryRunner): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await (runner ?? this.dataSource).query(
      `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [log, afterPosition, limit],
    );
    return rows.map((r) => this.upcast(rowToEnvelope(r)));
  }

  async headPosition(log: string): Promise<number> {
    const rows: { position: string }[] = await this.dataSource.query(
      'SELECT position FROM trellis_log_heads WHERE log = $1',
      [log],
    );
    return rows.length ? Number(rows[0].position) : 0;
  }

  async logs(): Promise<{ log: string; position: number }[]> {
    const rows: { log: string; position: string }[] = await this.dataSource.query(
      'SELECT log, position FROM trellis_log_heads ORDER BY log',
    );
    return rows.map((r) => ({ log: r.log, position: Number(r.position) }));
  }

  /**
   * Recomputes the chain from the first event and reports the first position where it breaks:
   * an edited row fails its own hash, a deleted row leaves a gap, a deleted tail disagrees with
   * the head record.
   */
  async verify(log: string, batchSize = 2000): Promise<VerifyResult> {
    let expectedPosition = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const rows: EventRow[] = await this.dataSource.query(
        `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND position >= $2 ORDER BY position LIMIT $3`,
        [log, expectedPosition, batchSize],
      );
      for (const row of rows) {
        const e = rowToEnvelope(row);
        if (e.position !== expectedPosition) {
          return { ok: false, log, position: expectedPosition, reason: `event at position ${expectedPosition} is missing`, checked };
        }
        if (e.prevHash !== prevHash) {
          return { ok: false, log, position: e.position, reason: 'previous hash does not match the preceding event', checked };
        }
        if (hashEvent(prevHash, e) !== e.hash) {
          return { ok: false, log, position: e.position, reason: 'content does not match its hash', checked };
        }
        prevHash = e.hash;
        expectedPosition += 1;
        checked += 1;
      }
      if (rows.length < batchSize) break;
    }
    const head: { position: string; hash: string }[] = await this.dataSource.query(
      'SELECT position, hash FROM trellis_log_heads WHERE log = $1',
      [log],
    );
    const headPosition = head.length ? Number(head[0].position) : 0;
    if (headPosition !== expectedPosition - 1 || (head.length > 0 && head[0].hash !== prevHash)) {
      return { ok: false, log, position: expectedPosition, reason: `log ends at ${expectedPosition - 1} but its head records ${headPosition}`, checked };
    }
    return { ok: true, log, lastPosition: expectedPosition - 1, checked };
  }

  private prepare(log: string, streamId: string, events: NewEvent[], context: AppendContext) {
    if (!LOG_NAME.test(log)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `invalid log name ${JSON.stringify(log)}`);
    }
    if (!STREAM_ID.test(streamId)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `invalid stream id ${JSON.stringify(streamId)}`);
    }
    if (events.length === 0) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, 'an append needs at least one event');
    }
    if (!context.actor?.id || !isRole(context.actor.role)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, 'an append needs an actor with a known role');
    }
    return events.map((e) => {
      const schemaVersion = e.schemaVersion ?? this.registry.currentVersion(e.type);
      return { type: e.type, schemaVersion, data: this.registry.validate(e.type, schemaVersion, e.data) };
    });
  }

  private async appendWith(
    qr: QueryRunner,
    log: string,
    streamId: string,
    events: { type: string; schemaVersion: number; data: unknown }[],
    context: AppendContext,
    options: AppendOptions,
  ): Promise<AppendResult> {
    const head = await this.lockHead(qr, log);
    const versionRows: { v: number }[] = await qr.query(
      'SELECT coalesce(max(stream_version), 0)::int AS v FROM trellis_events WHERE log = $1 AND stream_id = $2',
      [log, streamId],
    );
    const current = versionRows[0].v;
    assertExpectedVersion(streamId, current, options.expectedVersion);

    const occurredAt = this.clock.now().toISOString();
    const correlationId = context.correlationId ?? this.newId();
    let prevHash = head.hash;
    const stored: EventEnvelope[] = events.map((e, i) => {
      const partial = {
        eventId: this.newId(),
        type: e.type,
        schemaVersion: e.schemaVersion,
        log,
        streamId,
        streamVersion: current + i + 1,
        position: head.position + i + 1,
        occurredAt,
        actor: { id: context.actor.id, role: context.actor.role },
        correlationId,
        causationId: context.causationId ?? null,
        data: e.data,
      };
      const hash = hashEvent(prevHash, partial);
      const envelope = { ...partial, prevHash, hash };
      prevHash = hash;
      return envelope;
    });

    const last = stored[stored.length - 1];
    // One round trip: insert the batch, move the head, and wake subscribers at commit.
    await qr.query(
      `WITH ins AS (
         INSERT INTO trellis_events (${EVENT_COLUMNS})
         SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::int[],
                                  $8::timestamptz[], $9::text[], $10::text[], $11::uuid[], $12::uuid[],
                                  $13::jsonb[], $14::text[], $15::text[])
         RETURNING 1
       ), upd AS (
         UPDATE trellis_log_heads SET position = $16, hash = $17 WHERE log = $1 RETURNING 1
       )
       SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM upd) AS updated, pg_notify('${EVENTS_CHANNEL}', $1)`,
      [
        log,
        stored.map((e) => e.position),
        stored.map((e) => e.eventId),
        stored.map((e) => e.streamId),
        stored.map((e) => e.streamVersion),
        stored.map((e) => e.type),
        stored.map((e) => e.schemaVersion),
        stored.map((e) => e.occurredAt),
        stored.map((e) => e.actor.id),
        stored.map((e) => e.actor.role),
        stored.map((e) => e.correlationId),
        stored.map((e) => e.causationId),
        stored.map((e) => JSON.stringify(e.data)),
        stored.map((e) => e.prevHash),
        stored.map((e) => e.hash),
        last.position,
        last.hash,
      ],
    );
    return {
      streamVersion: last.streamVersion,
      firstPosition: stored[0].position,
      lastPosition: last.position,
      events: stored,
    };
  }

  private async lockHead(qr: QueryRunner, log: string): Promise<{ position: number; hash: string }> {
    const select = 'SELECT position, hash FROM trellis_log_heads WHERE log = $1 FOR UPDATE';
    let rows: { position: string; hash: string }[] = await qr.query(select, [log]);
    if (rows.length === 0) {
      await qr.query(
        'INSERT INTO trellis_log_heads (log, position, hash) VALUES ($1, 0, $2) ON CONFLICT (log) DO NOTHING',
        [log, GENESIS_HASH],
      );
      rows = await qr.query(select, [log]);
    }
    return { position: Number(rows[0].position), hash: rows[0].hash };
  }

  private upcast(e: EventEnvelope): EventEnvelope {
    // Another context's types may be unknown to this registry: readers of the whole log
    // (the lineage service) still get them, as stored.
    if (!this.registry.has(e.type)) return e;
    const { version, data } = this.registry.upcast(e.type, e.schemaVersion, e.data);
    return version === e.schemaVersion ? e : { ...e, schemaVersion: version, data };
  }
}
