import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';
import { processAsset, ProcessedAsset, ProcessingLimits, ProcessingSubject } from './asset-processor';
import { AssetValidationError, imageCodecInfo } from './processing';

let announced = false;

/** Once per process: which image codec ingestion runs on (no file content, no personal data). */
function announceCodec(where: string): void {
  if (announced) return;
  announced = true;
  const { codec, detail } = imageCodecInfo();
  new Logger('Ingestion').log(`image codec: ${codec} (${detail}); processing ${where}`);
}

/** Where ingestion's CPU work (decode, de-identify, encode) runs. */
export interface AssetProcessorPort {
  process(bytes: Buffer, declaredMimeType: string, limits: ProcessingLimits, subject: ProcessingSubject): Promise<ProcessedAsset>;
  close(): Promise<void>;
}

/** On the calling thread (INGESTION_WORKERS=0): what the integration tests use. */
export class InlineProcessor implements AssetProcessorPort {
  constructor() {
    announceCodec('on the calling thread');
  }

  async process(bytes: Buffer, declaredMimeType: string, limits: ProcessingLimits, subject: ProcessingSubject): Promise<ProcessedAsset> {
    return processAsset(bytes, declaredMimeType, limits, subject);
  }

  async close(): Promise<void> {}

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

function repoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'tsconfig.json'))) return dir;
  throw new Error(`no tsconfig.json above ${from}`);
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ProcessedAsset) => void; reject: (e: unknown) => void }>;
}

type WorkerReply = { id: number; ok: boolean; result?: ProcessedAsset; validation?: { code: string; message: string }; error?: string };

const asBuffer = (u: Uint8Array | null): Buffer | null => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : null);

/**
 * A fixed set of worker threads, so that decoding and encoding of concurrent uploads run on
 * every core while the main thread keeps serving HTTP, PostgreSQL and S3. The worker loads the
 * TypeScript source through ts-node when the service runs from source, the compiled file otherwise.
 */
export class ProcessingPool implements AssetProcessorPort {
  private readonly workers: WorkerSlot[] = [];
  private nextId = 1;
  private closing = false;
  private readonly boot: string;
  private readonly file: string;
  private readonly logger = new Logger('Ingestion');

  constructor(size: number) {
    // sharp is loaded by the main thread before any worker loads it (its native module must be).
    announceCodec(`in ${size} worker thread${size === 1 ? '' : 's'}`);
    const fromSource = __filename.endsWith('.ts');
    this.file = join(__dirname, `processing.worker.${fromSource ? 'ts' : 'js'}`);
    const root = repoRoot(__dirname);
    this.boot = fromSource
      ? `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(join(root, 'tsconfig.json'))} });
         require('tsconfig-paths').register({ baseUrl: ${JSON.stringify(root)}, paths: require(${JSON.stringify(join(root, 'tsconfig.json'))}).compilerOptions.paths });`
      : `require(${JSON.stringify(join(root, 'scripts', 'register-paths.js'))});`;
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** Live workers (a dead one is replaced, so this stays at the configured size). */
  get size(): number {
    return this.workers.length;
  }

  private spawn(): WorkerSlot {
    const worker = new Worker(`${this.boot}\nrequire(${JSON.stringify(this.file)});`, { eval: true });
    const slot: WorkerSlot = { worker, pending: new Map() };
    worker.on('message', (m: WorkerReply) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok && m.result) {
        const r = m.result;
        p.resolve({
          ...r,
          curated: { ...r.curated, bytes: asBuffer(r.curated.bytes)! },
          derivative: asBuffer(r.derivative),
          deidentifiedDicom: asBuffer(r.deidentifiedDicom),
        });
      } else if (m.validation) p.reject(new AssetValidationError(m.validation.code as never, m.validation.message));
      else p.reject(new Error(`asset processing failed: ${m.error}`));
    });
    // A worker that dies (an uncaught error, out of memory, terminated) fails only the jobs it
    // held, leaves the pool and is replaced, so later uploads are not sent to a dead thread.
    const retire = (cause: string) => {
      const at = this.workers.indexOf(slot);
      if (at < 0) return;
      this.workers.splice(at, 1);
      for (const p of slot.pending.values()) p.reject(new Error(`asset processing failed: the worker ${cause}`));
      slot.pending.clear();
      if (!this.closing) {
        this.logger.warn(`a processing worker ${cause}; starting a new one`);
        this.workers.push(this.spawn());
      }
    };
    worker.on('error', () => retire('crashed'));
    worker.on('exit', (code) => retire(`exited with code ${code}`));
    worker.unref();
    return slot;
  }

  process(bytes: Buffer, declaredMimeType: string, limits: ProcessingLimits, subject: ProcessingSubject): Promise<ProcessedAsset> {
    if (this.closing) return Promise.reject(new Error('asset processing failed: the pool is closed'));
    const slot = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({
        id,
        bytes,
        declaredMimeType,
        limits: { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels, dicomUidKey: limits.dicomUidKey },
        subject,
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.workers].map((w) => w.worker.terminate()));
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
