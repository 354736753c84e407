import { AppendSignal, LogFollower } from './log-follower';

/** An in-memory append signal: `append(log)` calls the listeners of that log, as a NOTIFY would. */
class FakeSignal implements AppendSignal {
  private readonly listeners = new Map<string, Set<() => void>>();

  subscribe(log: string, listener: () => void): () => void {
    const set = this.listeners.get(log) ?? new Set();
    set.add(listener);
    this.listeners.set(log, set);
    return () => set.delete(listener);
  }

  append(log: string): void {
    for (const l of this.listeners.get(log) ?? []) l();
  }

  count(log: string): number {
    return this.listeners.get(log)?.size ?? 0;
  }
}

/** Whether `promise` has settled once pending microtasks have run (timers do not move). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe(LogFollower.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('returns from idle at once for an append signalled while the loop was busy (not idle)', async () => {
    const signal = new FakeSignal();
    const follower = new LogFollower('ingestion', signal);
    follower.launch(async () => undefined);
    signal.append('ingestion'); // committed while the loop reads or publishes
    expect(await settled(follower.idle(60_000))).toBe(true);
    // That append is used up: the next idle waits again.
    const next = follower.idle(60_000);
    expect(await settled(next)).toBe(false);
    signal.append('ingestion');
    expect(await settled(next)).toBe(true);
    await follower.halt('test');
  });

  it('ignores appends to other logs, and ends an idle at its poll interval', async () => {
    const signal = new FakeSignal();
    const follower = new LogFollower('ingestion', signal);
    follower.launch(async () => undefined);
    signal.append('annotation');
    const idle = follower.idle(1000);
    expect(await settled(idle)).toBe(false);
    jest.advanceTimersByTime(1000);
    expect(await settled(idle)).toBe(true);
    await follower.halt('test');
  });

  it('waits out a back-off whatever is appended, and counts the append for the next idle', async () => {
    const signal = new FakeSignal();
    const follower = new LogFollower('ingestion', signal);
    follower.launch(async () => undefined);
    const backOff = follower.idle(500, false);
    signal.append('ingestion');
    expect(await settled(backOff)).toBe(false);
    jest.advanceTimersByTime(500);
    expect(await settled(backOff)).toBe(true);
    expect(await settled(follower.idle(60_000))).toBe(true);
    await follower.halt('test');
  });

  it('stops listening when halted', async () => {
    const signal = new FakeSignal();
    const follower = new LogFollower('ingestion', signal);
    follower.launch(async () => undefined);
    expect(signal.count('ingestion')).toBe(1);
    await follower.halt('test');
    expect(signal.count('ingestion')).toBe(0);
  });
});
