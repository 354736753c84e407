import type { QueryRunner } from 'typeorm';
import type { AppendContext, ContractEvent, EventContractRegistry, EventEnvelope, NewEvent } from '@trellis/contracts';
import type { Decider } from './decider';
import type { ExpectedVersion } from './expected-version';
import type { AppendOptions, AppendResult } from './postgres-event-store';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';

/** What running a command needs of a store; PostgresEventStore is one, tests use an in-memory one. */
export interface EventStreamStore {
  readStream(log: string, streamId: string, fromVersion?: number, runner?: QueryRunner): Promise<EventEnvelope[]>;
  append(log: string, streamId: string, events: NewEvent[], context: AppendContext, options: AppendOptions): Promise<AppendResult>;
}

/**
 * One stream of a log, with the log's contracts: a decider's events must be among them (checked
 * by the compiler), and what is read back is checked against them (at run time).
 */
export interface StreamTarget<C extends ContractEvent> {
  log: string;
  streamId: string;
  contracts: EventContractRegistry<C>;
}

export interface AggregateOptions {
  /** Reads in the caller's transaction, e.g. after it took a lock that orders writers of the stream. */
  queryRunner?: QueryRunner;
}

export interface AggregatedStream<State> {
  state: State;
  /** The stream's last version, 0 when it does not exist: what the next append expects. */
  version: number;
}

export interface HandleCommandOptions extends AggregateOptions {
  context: AppendContext;
  /**
   * The version the command was built against, when the caller read the stream earlier (and
   * acted on it, e.g. wrote an artifact): the append fails if the stream has moved on since.
   * By default, the version read here.
   */
  expectedVersion?: ExpectedVersion;
  /** Runs after the append in the same transaction (a read model, say); needs `queryRunner`. */
  afterAppend?: (appended: EventEnvelope[], tx: QueryRunner) => Promise<void>;
}

export interface CommandResult<State, Event> {
  newState: State;
  newEvents: Event[];
  /** The stream's version after the append (unchanged when the decider had nothing to say). */
  nextExpectedStreamVersion: number;
  /** The stored envelopes, empty when nothing was appended. */
  appended: EventEnvelope[];
}

/** Reads a stream and folds it from the decider's initial state (Emmett's aggregateStream). */
export async function aggregateStream<State, Event extends C, C extends ContractEvent>(
  store: EventStreamStore,
  decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>,
  target: StreamTarget<C>,
  options: AggregateOptions = {},
): Promise<AggregatedStream<State>> {
  const envelopes = await store.readStream(target.log, target.streamId, 1, options.queryRunner);
  let state = decider.initialState;
  // A stream holds only its decider's events; the contracts check each one's data on the way in.
  for (const e of envelopes) state = decider.evolve(state, target.contracts.parse<Event>(e.type, e.schemaVersion, e.data));
  return { state, version: envelopes.length === 0 ? 0 : envelopes[envelopes.length - 1].streamVersion };
}

/**
 * Runs one command against a stream (Emmett's handleCommand): read and fold, decide, append with
 * the version that was read as the expected version. A writer that got in between makes the
 * append fail with WrongExpectedVersion; the caller may run the command again.
 *
 * `command` may be a function of the state, for a command that needs what the stream says before
 * it can be built (a version number, a project's rules). When `queryRunner` is given, read,
 * append and `afterAppend` all run in that transaction.
 */
export async function handleCommand<State, Command, Event extends C, C extends ContractEvent>(
  store: EventStreamStore,
  decider: Decider<State, Command, Event>,
  target: StreamTarget<C>,
  command: Command | ((state: State) => Command | Promise<Command>),
  options: HandleCommandOptions,
): Promise<CommandResult<State, Event>> {
  if (options.afterAppend && !options.queryRunner) throw new Error('afterAppend runs in the append transaction: pass a queryRunner');
  const { state, version } = await aggregateStream(store, decider, target, options);
  const resolved = isBuilder(command) ? await command(state) : command;
  const newEvents = decider.decide(state, resolved);
  if (newEvents.length === 0) return { newState: state, newEvents, nextExpectedStreamVersion: version, appended: [] };
  const result = await store.append(target.log, target.streamId, newEvents, options.context, {
    expectedVersion: options.expectedVersion ?? version,
    queryRunner: options.queryRunner,
  });
  if (options.afterAppend) await options.afterAppend(result.events, options.queryRunner!);
  return { newState: newEvents.reduce(decider.evolve, state), newEvents, nextExpectedStreamVersion: result.streamVersion, appended: result.events };
}

function isBuilder<State, Command>(command: Command | ((state: State) => Command | Promise<Command>)): command is (state: State) => Command | Promise<Command> {
  return typeof command === 'function';
}

/**
 * Runs `attempt` again when another writer changed the stream in between (optimistic
 * concurrency); after `tries` conflicts it throws what `exhausted` makes (the caller's domain error).
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, exhausted: () => Error, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const conflict = err instanceof EventStoreException && err.code === EventStoreErrorCode.WrongExpectedVersion;
      if (!conflict) throw err;
      if (i >= tries) throw exhausted();
    }
  }
}
