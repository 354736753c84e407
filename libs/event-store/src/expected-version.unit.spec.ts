import { assertExpectedVersion, ExpectedVersion } from './expected-version';
import { EventStoreErrorCode, EventStoreException } from './event-store.exception';

describe('assertExpectedVersion', () => {
  const cases: [number, ExpectedVersion, boolean][] = [
    [0, 'no_stream', true],
    [3, 'no_stream', false],
    [0, 'stream_exists', false],
    [2, 'stream_exists', true],
    [0, 'any', true],
    [5, 'any', true],
    [4, 4, true],
    [4, 3, false],
    [0, 0, true],
  ];
  it.each(cases)('current %p, expected %p -> accepted %p', (current, expected, ok) => {
    const run = () => assertExpectedVersion('s-1', current, expected);
    if (ok) expect(run).not.toThrow();
    else {
      expect(run).toThrow(EventStoreException);
      try {
        run();
      } catch (err) {
        expect((err as EventStoreException).code).toBe(EventStoreErrorCode.WrongExpectedVersion);
      }
    }
  });
});
