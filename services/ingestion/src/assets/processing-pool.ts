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

/** On the calling thread: the default, and what the tests use. */
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

const asBuffer = (u: Uint8Array | null): Buffer | null => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : null);

/**
 * A fixed set of worker threads, so that decoding and encoding of concurrent uploads run on
 * every core while the main thread keeps serving HTTP, PostgreSQL and S3. The worker loads the
 * TypeScript source through ts-node when the service runs from source, the compiled file otherwise.
 */
export class ProcessingPool implements AssetProcessorPort {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, { resolve: (r: ProcessedAsset) => void; reject: (e: unknown) => void }>();
  private nextId = 1;

  constructor(size: number) {
    // sharp is loaded by the main thread before any worker loads it (its native module must be).
    announceCodec(`in ${size} worker thread${size === 1 ? '' : 's'}`);
    const fromSource = __filename.endsWith('.ts');
    const file = join(__dirname, `processing.worker.${fromSource ? 'ts' : 'js'}`);
    const root = repoRoot(__dirname);
    const boot = fromSource
      ? `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(join(root, 'tsconfig.json'))} });
         require('tsconfig-paths').register({ baseUrl: ${JSON.stringify(root)}, paths: require(${JSON.stringify(join(root, 'tsconfig.json'))}).compilerOptions.paths });`
      : `require(${JSON.stringify(join(root, 'scripts', 'register-paths.js'))});`;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(`${boot}\nrequire(${JSON.stringify(file)});`, { eval: true });
      const slot = { worker, busy: 0 };
      worker.on('message', (m: { id: number; ok: boolean; result?: ProcessedAsset; validation?: { code: string; message: string }; error?: string }) => {
        slot.busy -= 1;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok && m.result) {
          const r = m.result;
          p.resolve({ ...r, curated: { ...r.curated, bytes: asBuffer(r.curated.bytes)! }, derivative: asBuffer(r.derivative), deidentifiedDicom: asBuffer(r.deidentifiedDicom) });
        } else if (m.validation) p.reject(new AssetValidationError(m.validation.code as never, m.validation.message));
        else p.reject(new Error(`asset processing failed: ${m.error}`));
      });
      worker.on('error', (err) => {
        // A crashed worker fails what it held; the pool keeps the others.
        for (const [id, p] of this.pending) {
          p.reject(err);
          this.pending.delete(id);
        }
      });
      worker.unref();
      this.workers.push(slot);
    }
  }

  process(bytes: Buffer, declaredMimeType: string, limits: ProcessingLimits, subject: ProcessingSubject): Promise<ProcessedAsset> {
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, bytes, declaredMimeType, limits: { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels, dicomUidKey: limits.dicomUidKey }, subject });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
