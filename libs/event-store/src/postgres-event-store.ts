import { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import { v7 as uuidv7 } from 'uuid';
import { AppendContext, EventContractRegistry, EventEnvelope, GENESIS_HASH, isPrincipalId, isRole, LOWERCASE_UUID_PATTERN, NewEvent } from '@trellis/contracts';
import { assertExpectedVersion, ExpectedVersion } from './expected-version';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';
import { CanonicalPieces, canonicalPiecesFor, hashEvent, hashPieces } from './event-hash';
import { EVENT_COLUMNS, EventRow, rowToEnvelope } from './event-row';
import { storableCanonicalJson } from './storable-json';

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

export interface ChainBreak {
  position: number;
  reason: string;
}

/**
 * `position` and `reason` are the first break; `broken` lists every one (at most
 * MAX_REPORTED_BREAKS, `brokenCount` counts them all), so that a first break, false or real,
 * cannot hide later tampering.
 */
export type VerifyResult =
  | { ok: true; log: string; lastPosition: number; checked: number }
  | { ok: false; log: string; position: number; reason: string; checked: number; broken: ChainBreak[]; brokenCount: number };

/** Bound of the breaks listed by verify (a wholesale rewrite would otherwise list the whole log). */
export const MAX_REPORTED_BREAKS = 1000;

export interface EventStoreClock {
  now(): Date;
}

interface PendingAppend {
  streamId: string;
  expectedVersion: ExpectedVersion;
  /** `row`: the event's object in trellis_append_rows' JSON, up to the stream version and hash that the plan adds. */
  events: { fields: Omit<EventEnvelope, 'position' | 'streamVersion' | 'prevHash' | 'hash'>; row: string; pieces: CanonicalPieces }[];
}

type Head = { position: number; hash: string };

/** What a log will be once a group of appends commits as planned. */
interface Predicted {
  head: Head;
  /** The version of every stream the group's plan touched. */
  versions: Map<string, number>;
}

interface AppendQueue {
  pending: { request: PendingAppend; resolve: (r: AppendResult) => void; reject: (e: unknown) => void }[];
  /** Groups sent to PostgreSQL and not answered yet, at most PIPELINE_DEPTH. */
  inFlight: number;
  /** The last group sent. */
  last: { predicted: Promise<Predicted | undefined>; sent: Promise<void>; settled: Promise<void> };
}

/**
 * A group sent while another is in flight: planned on what that one leaves (`after`), sent once
 * that one's statement is on its way (`sent`, so that it queues for the log's lock behind it),
 * settled after it (`previous`).
 */
interface Pipelined {
  after: Promise<Predicted | undefined>;
  sent: Promise<void>;
  previous: Promise<void>;
}

/** What a group tells the group sent after it. */
interface GroupSignals {
  /** What its first plan leaves (undefined: it has none). */
  announce(p: Predicted | undefined): void;
  /** The statement writing its first plan's rows has gone to PostgreSQL, or never will. */
  sent(): void;
}

interface AppendRowsAnswer {
  ok: boolean;
  head_position: string;
  head_hash: string;
  streams: string[] | null;
  versions: number[] | null;
}

/** Upper bound of events written in one group-commit transaction. */
const MAX_GROUP_EVENTS = 2000;
/**
 * A group this large leaves without waiting for the appends still being prepared (see
 * flushWhenReady): preparing the rest takes about as long as PostgreSQL takes to write it.
 */
const EAGER_GROUP_EVENTS = 256;
/**
 * Groups of one log in flight at once: one being written, the next already planned on the head
 * the first will leave and waiting for the log's lock inside PostgreSQL, so that the lock passes
 * from one to the next without a round trip, and the next group is hashed while the first is
 * written. More would only wait longer in line.
 */
const PIPELINE_DEPTH = 2;
/** A guard: under the log's lock the second attempt always succeeds. */
const MAX_APPEND_ATTEMPTS = 3;

/** Events carry ids and hashes, not content; this also keeps every event well inside a Kafka message. */
export const MAX_EVENT_DATA_BYTES = 256 * 1024;

/** Hashes cover ids as PostgreSQL stores them: lowercase, hyphenated. */
function uuidOrThrow(value: string, field: string): string {
  const v = String(value).toLowerCase();
  if (!LOWERCASE_UUID_PATTERN.test(v))
    throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `${field} must be a UUID, got ${JSON.stringify(value)}`);
  return v;
}

function unwrap(outcome: AppendResult | EventStoreException): AppendResult {
  if (outcome instanceof EventStoreException) throw outcome;
  return outcome;
}

const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;
const LOG_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Append-only, hash-chained event log in PostgreSQL.
 *
 * Appends to one log are serialized by a transaction-scoped advisory lock per log (taken by
 * trellis_append_rows), held until commit. That is what the hash chain needs anyway (each event
 * hashes its predecessor), and it means positions become
 * visible strictly in order: a reader that has seen position N has seen everything before it, so
 * catch-up subscriptions can never skip an event committed "late".
 */
export class PostgresEventStore {
  private readonly queues = new Map<string, AppendQueue>();
  /** Last head seen per log: right whenever this process is the log's only writer. */
  private readonly heads = new Map<string, { position: number; hash: string }>();
  /** Appends waiting for their turn to be prepared, in call order (see turn). */
  private readonly turns: (() => void)[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EventContractRegistry,
    private readonly clock: EventStoreClock = { now: () => new Date() },
    private readonly newId: () => string = uuidv7,
  ) {}

  get contracts(): EventContractRegistry {
    return this.registry;
  }

  async append(log: string, streamId: string, events: NewEvent[], context: AppendContext, options: AppendOptions): Promise<AppendResult> {
    if (options.queryRunner) {
      const request = this.prepare(log, streamId, events, context, options.expectedVersion);
      return unwrap((await this.writeBatch(options.queryRunner, log, [request]))[0]);
    }
    await this.turn();
    try {
      return this.enqueue(log, this.prepare(log, streamId, events, context, options.expectedVersion));
    } finally {
      this.flushWhenReady(log);
    }
  }

  /** With `runner`, reads in that transaction (and sees its own uncommitted appends). */
  async readStream(log: string, streamId: string, fromVersion = 1, runner?: QueryRunner): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await (runner ?? this.dataSource).query(
      `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND stream_id = $2 AND stream_version >= $3 ORDER BY stream_version`,
      [log, streamId, fromVersion],
    );
    return rows.map((r) => this.upcast(rowToEnvelope(r)));
  }

  /**
   * Events of a log with position > `afterPosition`, in log order; upcast to the current
   * versions unless `asStored` (the relay publishes events exactly as hashed).
   */
  async readLog(log: string, afterPosition = 0, limit = 1000, runner?: QueryRunner, asStored = false): Promise<EventEnvelope[]> {
    const rows: EventRow[] = await (runner ?? this.dataSource).query(
      `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND position > $2 ORDER BY position LIMIT $3`,
      [log, afterPosition, limit],
    );
    return rows.map((r) => (asStored ? rowToEnvelope(r) : this.upcast(rowToEnvelope(r))));
  }

  async headPosition(log: string): Promise<number> {
    const rows: { position: string }[] = await this.dataSource.query('SELECT position FROM trellis_log_heads WHERE log = $1', [log]);
    return rows.length ? Number(rows[0].position) : 0;
  }

  async logs(): Promise<{ log: string; position: number }[]> {
    const rows: { log: string; position: string }[] = await this.dataSource.query('SELECT log, position FROM trellis_log_heads ORDER BY log');
    return rows.map((r) => ({ log: r.log, position: Number(r.position) }));
  }

  /**
   * Recomputes the chain from the first event and reports every position where it breaks: an
   * edited row fails its own hash, a deleted row leaves a gap, a forged link fails the next
   * row's previous hash, a deleted tail or head record disagrees with the head. After a break the
   * scan goes on from the stored row, so each break is reported once, where it is.
   * An unknown log (no head record and no events) is LOG_NOT_FOUND.
   */
  async verify(log: string, batchSize = 2000): Promise<VerifyResult> {
    // The head is read first: appends that commit during the scan lie beyond it and are
    // checked next time, instead of raising a false alarm.
    const head: { position: string; hash: string }[] = await this.dataSource.query('SELECT position, hash FROM trellis_log_heads WHERE log = $1', [log]);
    const breaks: ChainBreak[] = [];
    let brokenCount = 0;
    const broken = (position: number, reason: string) => {
      brokenCount += 1;
      if (breaks.length < MAX_REPORTED_BREAKS) breaks.push({ position, reason });
    };
    let headPosition: number;
    if (head.length > 0) {
      headPosition = Number(head[0].position);
    } else {
      // Without a head record, events may still exist: a deleted head is tampering, not an unknown log.
      const [{ max }]: { max: string | null }[] = await this.dataSource.query('SELECT max(position) AS max FROM trellis_events WHERE log = $1', [log]);
      if (max === null) throw new EventStoreException(EventStoreErrorCode.LogNotFound, 'no event log by that name');
      headPosition = Number(max);
      broken(headPosition, 'the head record of the log is missing');
    }
    let expectedPosition = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    while (expectedPosition <= headPosition) {
      const rows: EventRow[] = await this.dataSource.query(
        `SELECT ${EVENT_COLUMNS} FROM trellis_events WHERE log = $1 AND position >= $2 AND position <= $3 ORDER BY position LIMIT $4`,
        [log, expectedPosition, headPosition, batchSize],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const e = rowToEnvelope(row);
        if (e.position !== expectedPosition) {
          for (let p = expectedPosition; p < e.position; p++) broken(p, `event at position ${p} is missing`);
        } else if (e.prevHash !== prevHash) {
          broken(e.position, 'previous hash does not match the preceding event');
        }
        if (hashEvent(e.prevHash, e) !== e.hash) broken(e.position, 'content does not match its hash');
        prevHash = e.hash;
        expectedPosition = e.position + 1;
        checked += 1;
      }
    }
    if (expectedPosition - 1 !== headPosition) {
      for (let p = expectedPosition; p <= headPosition; p++) broken(p, `event at position ${p} is missing (the head records ${headPosition})`);
    } else if (head.length > 0 && head[0].hash !== prevHash) {
      broken(headPosition, 'the last event does not match the hash recorded in the head');
    }
    if (brokenCount > 0) {
      return { ok: false, log, position: breaks[0].position, reason: breaks[0].reason, checked, broken: breaks, brokenCount };
    }
    return { ok: true, log, lastPosition: headPosition, checked };
  }

  private prepare(log: string, streamId: string, events: NewEvent[], context: AppendContext, expectedVersion: ExpectedVersion): PendingAppend {
    if (!LOG_NAME.test(log)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `invalid log name ${JSON.stringify(log)}`);
    }
    if (!STREAM_ID.test(streamId)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `invalid stream id ${JSON.stringify(streamId)}`);
    }
    if (events.length === 0) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, 'an append needs at least one event');
    }
    if (typeof expectedVersion === 'number' && !(Number.isSafeInteger(expectedVersion) && expectedVersion >= 0)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `expected version must be a whole number >= 0, got ${expectedVersion}`);
    }
    if (!context.actor?.id || !isRole(context.actor.role)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, 'an append needs an actor with a known role');
    }
    // Stored as text and hashed as it is: a number (or anything but a principal id) would be
    // hashed differently from the text read back, a permanent false alarm in verify.
    if (!isPrincipalId(context.actor.id)) {
      throw new EventStoreException(EventStoreErrorCode.InvalidAppend, 'the actor id is not a principal id (a string of letters, digits and . _ : | -)');
    }
    // Everything that does not depend on the log head is done here, before the lock is taken.
    const occurredAt = this.clock.now().toISOString();
    const correlationId = uuidOrThrow(context.correlationId ?? this.newId(), 'correlationId');
    const actor = { id: context.actor.id, role: context.actor.role };
    const causationId = context.causationId ? uuidOrThrow(context.causationId, 'causationId') : null;
    // What every row of this append shares, as trellis_append_rows reads it (ids and timestamps need no escaping).
    const shared =
      `"s":${JSON.stringify(streamId)},"o":"${occurredAt}","a":${JSON.stringify(actor.id)},"ar":"${actor.role}",` +
      `"c":"${correlationId}","ca":${causationId === null ? 'null' : `"${causationId}"`}`;
    const piecesOf = canonicalPiecesFor({ log, streamId, occurredAt, actor, correlationId, causationId });
    const prepared = events.map((e) => {
      const schemaVersion = e.schemaVersion ?? this.registry.currentVersion(e.type);
      // Hashed exactly as jsonb will give it back (see storableJson), with the canonical text of
      // that value from the same walk: stored as it is, and hashed (canonicalPieces).
      const storable = storableCanonicalJson(this.registry.validate(e.type, schemaVersion, e.data));
      if ('error' in storable) {
        throw new EventStoreException(EventStoreErrorCode.InvalidAppend, `${e.type} ${storable.error.path} ${storable.error.problem}`, {
          fields: [storable.error.path],
        });
      }
      const { value: data, json } = storable;
      const fields = {
        eventId: uuidOrThrow(this.newId(), 'eventId'),
        type: e.type,
        schemaVersion,
        log,
        streamId,
        occurredAt,
        actor,
        correlationId,
        causationId,
        data,
      };
      // No UTF-16 unit takes more than 3 bytes in UTF-8: most data is measured without encoding it.
      if (json.length * 3 > MAX_EVENT_DATA_BYTES && Buffer.byteLength(json) > MAX_EVENT_DATA_BYTES) {
        throw new EventStoreException(
          EventStoreErrorCode.InvalidAppend,
          `${e.type} data is ${Buffer.byteLength(json)} bytes; events carry ids and hashes, at most ${MAX_EVENT_DATA_BYTES} bytes (put content in object storage)`,
        );
      }
      const row = `{"i":"${fields.eventId}","t":${JSON.stringify(e.type)},"sv":${schemaVersion},${shared},"d":[${json}],"v":`;
      return { fields, row, pieces: piecesOf(fields.eventId, e.type, schemaVersion, json) };
    });
    return { streamId, expectedVersion, events: prepared };
  }

  /**
   * Resolves in a later turn of the event loop, one waiting append per turn. Writers that one
   * group commit resumed together then prepare (validate, serialize, hash) one after another with
   * I/O handled in between, so that a group can leave for PostgreSQL, or come back from it, while
   * the others are still being prepared: the CPU and the database work at the same time instead
   * of waiting for each other.
   */
  private turn(): Promise<void> {
    return new Promise((resolve) => {
      this.turns.push(resolve);
      if (this.turns.length === 1) setImmediate(() => this.nextTurn());
    });
  }

  private nextTurn(): void {
    this.turns.shift()!();
    // Scheduled from a setImmediate callback, it runs after the next poll for I/O.
    if (this.turns.length > 0) setImmediate(() => this.nextTurn());
  }

  /**
   * Sends a group of a log whose queue waits, once no other append is waiting to be prepared
   * (small appends, prepared in microseconds, then share one commit), or at once when its queue
   * holds EAGER_GROUP_EVENTS events already (large ones then go to PostgreSQL while the rest are
   * prepared); in either case only while fewer than PIPELINE_DEPTH groups of the log are in flight.
   */
  private flushWhenReady(log: string): void {
    if (this.turns.length === 0) {
      for (const [name, queue] of this.queues) this.dispatch(name, queue);
      return;
    }
    const queue = this.queues.get(log);
    if (!queue) return;
    const events = queue.pending.reduce((n, p) => n + p.request.events.length, 0);
    if (events >= EAGER_GROUP_EVENTS) this.dispatch(log, queue);
  }

  /**
   * Group commit: appends to one log from this process that arrive while a write is in flight
   * are written together by the next trellis_append_rows call (one lock, one commit). Each keeps its
   * own expected-version check and succeeds or fails alone.
   */
  private enqueue(log: string, request: PendingAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(log);
      if (!queue) {
        queue = { pending: [], inFlight: 0, last: { predicted: Promise.resolve(undefined), sent: Promise.resolve(), settled: Promise.resolve() } };
        this.queues.set(log, queue);
      }
      queue.pending.push({ request, resolve, reject });
    });
  }

  /** Sends the appends waiting for a log as one group, if the pipeline has room; what waits when a group is answered goes next. */
  private dispatch(log: string, queue: AppendQueue): void {
    if (queue.inFlight >= PIPELINE_DEPTH || queue.pending.length === 0) return;
    const group: typeof queue.pending = [];
    let size = 0;
    while (queue.pending.length > 0 && (group.length === 0 || size + queue.pending[0].request.events.length <= MAX_GROUP_EVENTS)) {
      const next = queue.pending.shift()!;
      size += next.request.events.length;
      group.push(next);
    }
    const before = queue.last;
    const pipelined: Pipelined | undefined = queue.inFlight > 0 ? { after: before.predicted, sent: before.sent, previous: before.settled } : undefined;
    queue.inFlight += 1;
    let announce!: (p: Predicted | undefined) => void;
    let sent!: () => void;
    const predicted = new Promise<Predicted | undefined>((resolve) => (announce = resolve));
    const sentPromise = new Promise<void>((resolve) => (sent = resolve));
    const settled = this.writeGroup(log, group, pipelined, { announce, sent }).finally(() => {
      queue.inFlight -= 1;
      this.dispatch(log, queue);
    });
    queue.last = { predicted, sent: sentPromise, settled };
  }

  /** Writes a group and settles each of its appends; never rejects. */
  private async writeGroup(log: string, group: AppendQueue['pending'], pipelined: Pipelined | undefined, signals: GroupSignals): Promise<void> {
    let outcomes: (AppendResult | EventStoreException)[];
    try {
      outcomes = await this.writeBatch(
        this.dataSource,
        log,
        group.map((g) => g.request),
        pipelined,
        signals,
      );
    } catch (err) {
      // The group sent after this one must not wait for a prediction or a statement that will not come.
      signals.announce(undefined);
      signals.sent();
      // Whatever the group before this one does, it does first: appends are written in the order they were grouped.
      if (pipelined) await pipelined.previous;
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      // The database refused the group as a whole: write each alone so one bad append
      // cannot fail the others.
      for (const g of group) {
        await this.writeBatch(this.dataSource, log, [g.request])
          .then(([o]) => (o instanceof EventStoreException ? g.reject(o) : g.resolve(o)))
          .catch((e) => g.reject(e));
      }
      return;
    }
    outcomes.forEach((o, i) => (o instanceof EventStoreException ? group[i].reject(o) : group[i].resolve(o)));
  }

  /**
   * Writes the appends that pass their expected-version check, in order, in one statement.
   * Rows are prepared from the cached log head and guessed stream versions, or, `pipelined`, from
   * the head and versions the group in flight before them will leave; trellis_append_rows checks
   * both under the head lock and, when the log is not as planned (another writer got there first,
   * or the group before did not commit), writes nothing and answers the real state, from which the
   * rows are prepared again (a pipelined group first waits for the group before it to settle).
   * `signals` tell the group sent after this one what the first plan leaves and when its rows are sent.
   */
  private async writeBatch(
    runner: QueryRunner | DataSource,
    log: string,
    requests: PendingAppend[],
    pipelined?: Pipelined,
    signals?: GroupSignals,
  ): Promise<(AppendResult | EventStoreException)[]> {
    const predicted = pipelined ? await pipelined.after : undefined;
    let head = predicted?.head ?? this.heads.get(log) ?? { position: 0, hash: GENESIS_HASH };
    const known = new Map(predicted?.versions);
    const unknown = [
      ...new Set(
        requests.filter((r) => typeof r.expectedVersion !== 'number' && r.expectedVersion !== 'no_stream' && !known.has(r.streamId)).map((r) => r.streamId),
      ),
    ];
    if (unknown.length > 0) {
      // One probe of (log, stream_id, stream_version) per stream, as trellis_append_rows does (see
      // migration AppendRowsStreamLookupByIndex): a plan that reads the log cannot be chosen.
      const rows: { stream_id: string; v: number | null }[] = await runner.query(
        `SELECT g.stream_id, (SELECT t.stream_version FROM trellis_events t WHERE t.log = $1 AND t.stream_id = g.stream_id
                               ORDER BY t.stream_version DESC LIMIT 1) AS v
           FROM unnest($2::text[]) AS g(stream_id)`,
        [log, unknown],
      );
      for (const r of rows) known.set(r.stream_id, r.v ?? 0);
    }
    for (let attempt = 1; ; attempt++) {
      const plan = this.plan(head, requests, known);
      const params = [log, head.position, head.hash, [...plan.guesses.keys()], [...plan.guesses.values()], `[${plan.rows.join(',')}]`];
      let answer: AppendRowsAnswer;
      // False for an answer given before the group this one follows had committed.
      let current = true;
      if (attempt === 1) {
        signals?.announce({ head: plan.head, versions: plan.versions });
        if (pipelined) {
          // Behind the group before in the lock's queue: sent after its statement (a turn later,
          // once that statement's microtasks have written it to its connection).
          await pipelined.sent;
          await new Promise((resolve) => setImmediate(resolve));
        }
        answer = await this.appendRows(runner, params, signals?.sent);
        if (!answer.ok && pipelined) {
          // Taken before the group before (its statement was late), or that group did not commit
          // as planned. Once it has settled, the same rows are right if it left the head they were
          // planned on, and then what this group announced holds too.
          await pipelined.previous;
          const now = this.heads.get(log);
          if (now?.position === head.position && now.hash === head.hash) answer = await this.appendRows(runner, params, signals?.sent);
          else current = false;
        }
      } else {
        answer = await this.appendRows(runner, params);
      }
      // Not sent again as planned: the group after this one is on its own.
      signals?.sent();
      head = { position: Number(answer.head_position), hash: answer.head_hash };
      // Answers of pipelined groups may arrive out of order: a success never moves the cached head
      // back. A refusal is the locked state itself, and corrects a cache that ran ahead (a caller's
      // transaction that appended and then rolled back).
      if (current && (!answer.ok || head.position >= (this.heads.get(log)?.position ?? 0))) this.heads.set(log, head);
      if (answer.ok) return plan.outcomes;
      (answer.streams ?? []).forEach((s, i) => known.set(s, answer.versions![i]));
      if (runner instanceof DataSource) {
        // Lost the race to another process. Retrying optimistically could lose again and again
        // while other writers keep the log busy, so take the log's lock first: inside that
        // transaction the next attempt sees the state it is checked against, and succeeds.
        return withTransaction(this.dataSource, async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`trellis_log:${log}`]);
          return this.writeBatch(tx, log, requests);
        });
      }
      // Inside a transaction, trellis_append_rows already holds the log's lock: the next attempt,
      // prepared from the state it just answered, cannot lose.
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        throw new Error(`append to ${log} lost the race to other writers ${attempt} times in a row; giving up`);
      }
    }
  }

  /**
   * One call of trellis_append_rows. `sent` is told once the statement is on its way: with the
   * pool, only after a connection is in hand (which may take a new connection's handshake).
   */
  private async appendRows(runner: QueryRunner | DataSource, params: unknown[], sent?: () => void): Promise<AppendRowsAnswer> {
    const sql = 'SELECT ok, head_position, head_hash, streams, versions FROM trellis_append_rows($1, $2, $3, $4::text[], $5::int[], $6::json)';
    const qr = runner instanceof DataSource ? runner.createQueryRunner() : runner;
    try {
      if (runner instanceof DataSource) await qr.connect();
      const answer: Promise<AppendRowsAnswer[]> = qr.query(sql, params);
      sent?.();
      return (await answer)[0];
    } finally {
      if (runner instanceof DataSource) await qr.release();
    }
  }

  /**
   * Decides each request against the believed state and lays out the rows to insert, in log
   * order: trellis_append_rows gives them the positions after the head and chains each to the one
   * before, as the hashes computed here assume. Also says what the log is once the rows are written.
   */
  private plan(head: Head, requests: PendingAppend[], known: Map<string, number>) {
    const guesses = new Map<string, number>();
    const current = new Map<string, number>();
    const rows: string[] = [];
    let position = head.position;
    let prevHash = head.hash;
    const outcomes = requests.map((req): AppendResult | EventStoreException => {
      if (!current.has(req.streamId)) {
        // Without better knowledge, a writer that names a version is probably right about it.
        const guess = known.get(req.streamId) ?? (typeof req.expectedVersion === 'number' ? req.expectedVersion : 0);
        guesses.set(req.streamId, guess);
        current.set(req.streamId, guess);
      }
      const version = current.get(req.streamId)!;
      try {
        assertExpectedVersion(req.streamId, version, req.expectedVersion);
      } catch (err) {
        return err as EventStoreException;
      }
      const envelopes = req.events.map((e, j): EventEnvelope => {
        position += 1;
        const streamVersion = version + j + 1;
        const hash = hashPieces(prevHash, e.pieces, position, streamVersion);
        const envelope = { ...e.fields, position, streamVersion, prevHash, hash };
        prevHash = hash;
        rows.push(`${e.row}${streamVersion},"h":"${hash}"}`);
        return envelope;
      });
      current.set(req.streamId, version + envelopes.length);
      const last = envelopes[envelopes.length - 1];
      return { streamVersion: last.streamVersion, firstPosition: envelopes[0].position, lastPosition: last.position, events: envelopes };
    });
    return { guesses, rows, outcomes, head: { position, hash: prevHash }, versions: current };
  }

  private upcast(e: EventEnvelope): EventEnvelope {
    // Another context's types may be unknown to this registry: readers of the whole log
    // (the lineage service) still get them, as stored.
    if (!this.registry.has(e.type)) return e;
    const { version, data } = this.registry.upcast(e.type, e.schemaVersion, e.data);
    return version === e.schemaVersion ? e : { ...e, schemaVersion: version, data };
  }
}
