import { EventStoreErrorCode, EventStoreException } from './event-store.exception';

/**
 * What the writer believes about the stream: a version number (the stream's last version,
 * 0 meaning "does not exist yet"), `no_stream`, `stream_exists`, or `any`.
 */
export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

export function assertExpectedVersion(streamId: string, current: number, expected: ExpectedVersion): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === 0) ||
    (expected === 'stream_exists' && current > 0) ||
    (typeof expected === 'number' && expected === current);
  if (!ok) {
    throw new EventStoreException(EventStoreErrorCode.WrongExpectedVersion, `stream ${streamId} is at version ${current}, expected ${expected}`, {
      streamId,
      current,
      expected,
    });
  }
}
