import { afterFailedAttempt, checkBackoffPolicy, DEFAULT_BACKOFF, retryDelayMs } from './webhook-backoff';

const ids = Array.from({ length: 200 }, (_, i) => `0190b7c2-0000-7000-8000-${String(i).padStart(12, '0')}`);

describe('webhook backoff', () => {
  describe('retryDelayMs', () => {
    it('stays between half the ceiling and the ceiling, the ceiling doubling from baseMs', () => {
      for (const id of ids) {
        for (let n = 1; n <= 7; n++) {
          const ceiling = 30_000 * 2 ** (n - 1);
          const d = retryDelayMs(n, id, DEFAULT_BACKOFF);
          expect(d).toBeGreaterThanOrEqual(ceiling / 2);
          expect(d).toBeLessThanOrEqual(ceiling);
        }
      }
    });

    it('never exceeds the cap, however many attempts', () => {
      const policy = { baseMs: 1000, capMs: 5000, maxAttempts: 2000 };
      for (const n of [4, 10, 60, 1000]) for (const id of ids.slice(0, 20)) expect(retryDelayMs(n, id, policy)).toBeLessThanOrEqual(5000);
    });

    it('is the same for the same delivery and attempt, and spread across deliveries', () => {
      expect(retryDelayMs(3, ids[0], DEFAULT_BACKOFF)).toBe(retryDelayMs(3, ids[0], DEFAULT_BACKOFF));
      const delays = ids.map((id) => retryDelayMs(3, id, DEFAULT_BACKOFF));
      expect(new Set(delays).size).toBeGreaterThan(190);
      // Roughly uniform over [60 s, 120 s]: both halves of the range are used.
      expect(delays.filter((d) => d < 90_000).length).toBeGreaterThan(60);
      expect(delays.filter((d) => d >= 90_000).length).toBeGreaterThan(60);
    });

    it('grows with the attempt on average', () => {
      const mean = (n: number) => ids.reduce((s, id) => s + retryDelayMs(n, id, DEFAULT_BACKOFF), 0) / ids.length;
      for (let n = 1; n < 7; n++) expect(mean(n + 1)).toBeGreaterThan(mean(n));
    });

    it('refuses an attempt number below 1', () => {
      expect(() => retryDelayMs(0, ids[0], DEFAULT_BACKOFF)).toThrow(RangeError);
      expect(() => retryDelayMs(1.5, ids[0], DEFAULT_BACKOFF)).toThrow(RangeError);
    });
  });

  describe('afterFailedAttempt', () => {
    const now = new Date('2026-01-01T00:00:00Z');

    it('schedules the next attempt after the delay while attempts remain', () => {
      for (let n = 1; n < DEFAULT_BACKOFF.maxAttempts; n++) {
        expect(afterFailedAttempt(n, ids[1], now, DEFAULT_BACKOFF)).toEqual({
          status: 'pending',
          nextAttemptAt: new Date(now.getTime() + retryDelayMs(n, ids[1], DEFAULT_BACKOFF)),
        });
      }
    });

    it('fails the delivery after the last attempt', () => {
      expect(afterFailedAttempt(8, ids[1], now, DEFAULT_BACKOFF)).toEqual({ status: 'failed' });
      expect(afterFailedAttempt(1, ids[1], now, { ...DEFAULT_BACKOFF, maxAttempts: 1 })).toEqual({ status: 'failed' });
    });

    it('retries at once with a zero base (what tests configure)', () => {
      expect(afterFailedAttempt(2, ids[1], now, { baseMs: 0, capMs: 0, maxAttempts: 3 })).toEqual({ status: 'pending', nextAttemptAt: now });
    });
  });

  describe('checkBackoffPolicy', () => {
    it('accepts the default and names what is wrong otherwise', () => {
      expect(checkBackoffPolicy(DEFAULT_BACKOFF)).toEqual([]);
      expect(checkBackoffPolicy({ baseMs: -1, capMs: -2, maxAttempts: 0 })).toEqual([
        'baseMs must be an integer of at least 0',
        'capMs must be an integer of at least baseMs',
        'maxAttempts must be an integer of at least 1',
      ]);
    });
  });
});
