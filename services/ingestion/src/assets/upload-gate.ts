import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

export interface UploadGateLimits {
  /** Uploads processed at once. */
  maxInFlight: number;
  /** Uploads waiting for a turn; one more is refused at once. */
  maxQueued: number;
  /** A queued upload that has not started within this long is refused. */
  queueTimeoutMs: number;
}

/**
 * Back-pressure for uploads: at most `maxInFlight` run, at most `maxQueued` wait in order, and
 * anything beyond is refused with UPLOADS_BUSY (503 with Retry-After) instead of piling up on
 * the database pool until every request, /health included, hangs.
 */
export class UploadGate {
  private inFlight = 0;
  private readonly queue: { start(): void; timer: NodeJS.Timeout }[] = [];
  /** Moving average of how long one upload takes, for the Retry-After estimate. */
  private averageMs = 1000;

  constructor(readonly limits: UploadGateLimits) {
    if (limits.maxInFlight < 1) throw new Error('UploadGate: maxInFlight must be at least 1');
  }

  get stats(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queue.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    const started = Date.now();
    try {
      return await work();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - started);
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.inFlight < this.limits.maxInFlight && this.queue.length === 0) {
      this.inFlight += 1;
      return Promise.resolve();
    }
    if (this.queue.length >= this.limits.maxQueued) return Promise.reject(this.busy('the upload queue is full'));
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.queue.indexOf(entry);
          if (at >= 0) this.queue.splice(at, 1);
          reject(this.busy('the upload waited too long for its turn'));
        }, this.limits.queueTimeoutMs),
      };
      this.queue.push(entry);
    });
  }

  private leave(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next in line: inFlight stays the same.
    if (next) next.start();
    else this.inFlight -= 1;
  }

  /** Seconds until the queue has probably drained enough for one more. */
  private retryAfterSeconds(): number {
    const ahead = this.inFlight + this.queue.length;
    return Math.min(60, Math.max(1, Math.ceil((this.averageMs * ahead) / this.limits.maxInFlight / 1000)));
  }

  private busy(why: string): IngestionException {
    return IngestionException.unavailable(
      IngestionErrorCode.UploadsBusy,
      `${why} (${this.limits.maxInFlight} uploads at a time, ${this.limits.maxQueued} waiting); retry after the Retry-After seconds`,
      this.retryAfterSeconds(),
    );
  }
}
