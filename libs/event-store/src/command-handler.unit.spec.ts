import type { QueryRunner } from 'typeorm';
import { z } from 'zod';
import { ContractErrorCode, ContractException, EventContractRegistry } from '@trellis/contracts';
import { InMemoryEventStore, testContext } from '@trellis/testing';
import { aggregateStream, handleCommand } from './command-handler';
import type { Decider } from './decider';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';

const contracts = new EventContractRegistry<never>()
  .register({ type: 'CounterOpened', version: 1, schema: z.object({ counterId: z.string() }).strict() })
  .register({ type: 'CounterIncremented', version: 1, schema: z.object({ counterId: z.string(), by: z.number().int().positive() }).strict() });

type CounterEvent = { type: 'CounterOpened'; data: { counterId: string } } | { type: 'CounterIncremented'; data: { counterId: string; by: number } };
type CounterCommand = { type: 'Open'; counterId: string } | { type: 'Increment'; counterId: string; by: number };
type CounterState = { status: 'none' } | { status: 'open'; total: number };

const counter: Decider<CounterState, CounterCommand, CounterEvent> = {
  initialState: { status: 'none' },
  decide(state, command) {
    switch (command.type) {
      case 'Open':
        return state.status === 'none' ? [{ type: 'CounterOpened', data: { counterId: command.counterId } }] : [];
      case 'Increment':
        if (state.status !== 'open') throw new Error(`counter ${command.counterId} is not open`);
        return [{ type: 'CounterIncremented', data: { counterId: command.counterId, by: command.by } }];
    }
  },
  evolve(state, event) {
    if (event.type === 'CounterOpened') return { status: 'open', total: 0 };
    return state.status === 'open' ? { status: 'open', total: state.total + event.data.by } : state;
  },
};

const target = { log: 'counters', streamId: 'counter-1', contracts };
const tx = { name: 'the caller transaction' } as unknown as QueryRunner;

describe('handleCommand', () => {
  let store: InMemoryEventStore;
  beforeEach(() => (store = new InMemoryEventStore(contracts)));

  it('creates a stream: decides on the initial state and appends expecting no stream', async () => {
    const result = await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    expect(result.newEvents).toEqual([{ type: 'CounterOpened', data: { counterId: 'counter-1' } }]);
    expect(result.newState).toEqual({ status: 'open', total: 0 });
    expect(result.nextExpectedStreamVersion).toBe(1);
    expect(result.appended.map((e) => [e.type, e.streamVersion])).toEqual([['CounterOpened', 1]]);
  });

  it('folds the history before deciding and appends at the version it read', async () => {
    await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    await handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 2 }, { context: testContext });
    const result = await handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 3 }, { context: testContext });
    expect(result.newState).toEqual({ status: 'open', total: 5 });
    expect(result.nextExpectedStreamVersion).toBe(3);
    expect(await aggregateStream(store, counter, target)).toEqual({ state: { status: 'open', total: 5 }, version: 3 });
  });

  it('appends nothing when the decider has nothing to say', async () => {
    await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    const afterAppend = jest.fn();
    const result = await handleCommand(
      store,
      counter,
      target,
      { type: 'Open', counterId: 'counter-1' },
      { context: testContext, queryRunner: tx, afterAppend },
    );
    expect(result).toEqual({ newState: { status: 'open', total: 0 }, newEvents: [], nextExpectedStreamVersion: 1, appended: [] });
    expect(afterAppend).not.toHaveBeenCalled();
    expect((await store.readStream('counters', 'counter-1')).length).toBe(1);
  });

  it('lets the decider refuse, appending nothing', async () => {
    await expect(handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 1 }, { context: testContext })).rejects.toThrow(
      /not open/,
    );
    expect(await store.readStream('counters', 'counter-1')).toEqual([]);
  });

  it('builds the command from the state when given a function', async () => {
    await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    const result = await handleCommand(
      store,
      counter,
      target,
      async (state) => ({ type: 'Increment' as const, counterId: 'counter-1', by: state.status === 'open' ? state.total + 10 : 1 }),
      { context: testContext },
    );
    expect(result.newState).toEqual({ status: 'open', total: 10 });
  });

  it('fails with WrongExpectedVersion when another writer appended after the read', async () => {
    await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    const racing = handleCommand(
      store,
      counter,
      target,
      async () => {
        await handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 1 }, { context: testContext });
        return { type: 'Increment' as const, counterId: 'counter-1', by: 2 };
      },
      { context: testContext },
    );
    await expect(racing).rejects.toMatchObject({ code: EventStoreErrorCode.WrongExpectedVersion });
    await expect(racing).rejects.toBeInstanceOf(EventStoreException);
    expect((await aggregateStream(store, counter, target)).state).toEqual({ status: 'open', total: 1 });
  });

  it('holds the append to an expected version the caller read earlier', async () => {
    await handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext });
    const { version } = await aggregateStream(store, counter, target);
    await handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 1 }, { context: testContext });
    await expect(
      handleCommand(store, counter, target, { type: 'Increment', counterId: 'counter-1', by: 2 }, { context: testContext, expectedVersion: version }),
    ).rejects.toMatchObject({ code: EventStoreErrorCode.WrongExpectedVersion });
  });

  it("reads, appends and runs afterAppend in the caller's transaction", async () => {
    const afterAppend = jest.fn(async () => undefined);
    const result = await handleCommand(
      store,
      counter,
      target,
      { type: 'Open', counterId: 'counter-1' },
      { context: testContext, queryRunner: tx, afterAppend },
    );
    expect(store.runners).toEqual([
      { call: 'readStream', runner: tx },
      { call: 'append', runner: tx },
    ]);
    expect(afterAppend).toHaveBeenCalledWith(result.appended, tx);
  });

  it('refuses afterAppend without a transaction to run it in', async () => {
    await expect(
      handleCommand(store, counter, target, { type: 'Open', counterId: 'counter-1' }, { context: testContext, afterAppend: async () => undefined }),
    ).rejects.toThrow(/queryRunner/);
  });

  it('checks what it reads against the contracts', async () => {
    store.seed('counters', 'counter-1', [{ type: 'CounterOpened', schemaVersion: 1, data: { counterId: 'counter-1', extra: true } }]);
    const failure = aggregateStream(store, counter, target);
    await expect(failure).rejects.toBeInstanceOf(ContractException);
    await expect(failure).rejects.toMatchObject({ code: ContractErrorCode.InvalidEventData });
  });

  it("only takes a decider whose events are the log's contracts", () => {
    const stranger: Decider<number, 'go', { type: 'Unknown'; data: { n: number } }> = { initialState: 0, decide: () => [], evolve: (s) => s };
    // @ts-expect-error Unknown is not a contract of this log
    void aggregateStream(store, stranger, target);
    const mistyped: Decider<number, 'go', { type: 'CounterOpened'; data: { counterId: number } }> = { initialState: 0, decide: () => [], evolve: (s) => s };
    // @ts-expect-error CounterOpened carries a string counterId
    void handleCommand(store, mistyped, target, 'go', { context: testContext });
    const otherLog = new EventContractRegistry<never>().register({ type: 'ThingNamed', version: 1, schema: z.object({ name: z.string() }) });
    // @ts-expect-error the stream's log has other contracts
    void aggregateStream(store, counter, { ...target, contracts: otherLog });
  });
});
