import { createHash, Hash } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';

/**
 * Passes bytes through while hashing and counting them. When the count would exceed
 * `maxBytes`, or the source fails, it stops reading the source and ENDS (rather than errors):
 * the minio client does not propagate an error from the stream it is given and would wait
 * forever, so the caller checks `failure` once the write finished and discards what was written.
 */
export class HashingMeter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  failure: Error | null = null;
  private stopped = false;

  constructor(
    private readonly maxBytes: number | undefined,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  private source: Readable | null = null;

  /** Pipes `source` through this meter, ending it (not erroring) when the source fails. */
  static metering(source: Readable, maxBytes: number | undefined, tooLarge: () => Error): HashingMeter {
    const meter = new HashingMeter(maxBytes, tooLarge);
    source.on('error', (err) => meter.stop(err instanceof Error ? err : new Error(String(err)), source));
    meter.source = source;
    source.pipe(meter);
    return meter;
  }

  get sha256(): string {
    return this.hash.copy().digest('hex');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.stopped) return done();
    if (this.maxBytes !== undefined && this.bytes + chunk.length > this.maxBytes) {
      this.stop(this.tooLarge(), this.source);
      return done();
    }
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }

  private stop(failure: Error, source: Readable | null): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = failure;
    if (source) {
      source.unpipe(this);
      // Stop the producer; its own error (if any) is already recorded.
      source.destroy();
    }
    this.end();
  }
}
