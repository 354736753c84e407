import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { UploadGate } from './upload-gate';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe(UploadGate.name, () => {
  describe('run', () => {
    it('runs at most maxInFlight at once, queues up to maxQueued in order, and refuses the rest with UPLOADS_BUSY and a Retry-After', async () => {
      const gate = new UploadGate({ maxInFlight: 2, maxQueued: 2, queueTimeoutMs: 10_000 });
      const blockers = [deferred(), deferred(), deferred(), deferred()];
      const started: number[] = [];
      const runs = blockers.map((b, i) => gate.run(async () => (started.push(i), b.promise)));
      await Promise.resolve();
      expect(started).toEqual([0, 1]);
      expect(gate.stats).toEqual({ inFlight: 2, queued: 2 });

      const refused = await gate.run(async () => undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(IngestionException);
      expect(refused).toMatchObject({ code: IngestionErrorCode.UploadsBusy, errorClass: 'unavailable' });
      expect((refused as IngestionException).retryAfterSeconds).toBeGreaterThanOrEqual(1);

      blockers[0].resolve();
      await runs[0];
      await new Promise((r) => setImmediate(r));
      expect(started).toEqual([0, 1, 2]);
      for (const b of blockers) b.resolve();
      await Promise.all(runs);
      expect(started).toEqual([0, 1, 2, 3]);
      expect(gate.stats).toEqual({ inFlight: 0, queued: 0 });
    });

    it('refuses a queued upload that waited longer than queueTimeoutMs, and frees its place', async () => {
      jest.useFakeTimers();
      try {
        const gate = new UploadGate({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 1000 });
        const blocker = deferred();
        const first = gate.run(() => blocker.promise);
        const waiting = gate.run(async () => 'late').catch((e: unknown) => e);
        jest.advanceTimersByTime(1001);
        expect(await waiting).toMatchObject({ code: IngestionErrorCode.UploadsBusy });
        expect(gate.stats).toEqual({ inFlight: 1, queued: 0 });
        blocker.resolve();
        await first;
        expect(gate.stats).toEqual({ inFlight: 0, queued: 0 });
      } finally {
        jest.useRealTimers();
      }
    });

    it('frees the slot when the work fails', async () => {
      const gate = new UploadGate({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 1000 });
      await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      await expect(gate.run(async () => 'ok')).resolves.toBe('ok');
    });
  });
});
