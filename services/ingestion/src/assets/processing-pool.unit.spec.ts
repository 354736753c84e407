import { encodeRgbJpeg, generateSyntheticDataset } from '@trellis/synthetic';
import { processAsset } from './asset-processor';
import { MAX_REPORT_CHARS } from '@trellis/deidentify';
import { defaultWorkers, ingestionConfigFromEnv } from '../ingestion.config';
import { AssetProcessorPort, InlineProcessor, ProcessingPool } from './processing-pool';
import { AssetValidationError } from './processing';

const limits = { maxBytes: 1 << 20, maxPixels: 1 << 22, dicomUidKey: 'k' };
const subject = { pseudonym: 'p', knownNames: [] };

// Worker threads boot ts-node before their first job: seconds on a busy 2-core machine.
jest.setTimeout(120_000);

describe(ProcessingPool.name, () => {
  let pool: ProcessingPool;
  beforeAll(() => {
    pool = new ProcessingPool(2);
  });
  afterAll(() => pool.close());

  describe('process', () => {
    it('gives the same result as processing on the calling thread, as Buffers', async () => {
      const { items } = generateSyntheticDataset({ seed: 3, subjects: 1, itemsPerSubject: 3, imageSize: 64 });
      const files = items.map((i) => encodeRgbJpeg(i.rgb, 64, 64));
      const results = await Promise.all(files.map((f) => pool.process(f, 'image/jpeg', limits, subject)));
      for (const [i, r] of results.entries()) {
        const inline = await processAsset(files[i], 'image/jpeg', limits, subject);
        expect(Buffer.isBuffer(r.curated.bytes)).toBe(true);
        expect(r.curated.bytes.equals(inline.curated.bytes)).toBe(true);
        expect(r.derivative!.equals(inline.derivative!)).toBe(true);
        expect(r.stageMs).toEqual({ decode: expect.any(Number), derivative: expect.any(Number), curate: expect.any(Number) });
        expect({ ...r, curated: null, derivative: null, stageMs: null }).toEqual({ ...inline, curated: null, derivative: null, stageMs: null });
      }
    });

    it('hands back validation failures as AssetValidationError with their code', async () => {
      const err = await pool.process(Buffer.alloc(0), 'image/png', limits, subject).catch((e) => e);
      expect(err).toBeInstanceOf(AssetValidationError);
      expect(err.code).toBe('EMPTY_FILE');
    });

    it('fails only the jobs of a worker that dies, replaces it, and keeps serving', async () => {
      const crashing = new ProcessingPool(2);
      try {
        const { items } = generateSyntheticDataset({ seed: 5, subjects: 1, itemsPerSubject: 4, imageSize: 256 });
        const files = items.map((i) => encodeRgbJpeg(i.rgb, 256, 256));
        // Fault injection through the private slots: a worker thread dies with jobs in flight.
        const slots = (crashing as unknown as { workers: { worker: import('node:worker_threads').Worker }[] }).workers;
        const jobs = files.map((f) =>
          crashing.process(f, 'image/jpeg', limits, subject).then(
            () => 'ok',
            (e: Error) => e.message,
          ),
        );
        await slots[0].worker.terminate();
        const outcomes = await Promise.all(jobs);
        // Jobs go to the least-loaded worker, so the dead one held every other job.
        expect(outcomes.filter((o) => o !== 'ok')).toEqual(expect.arrayContaining([expect.stringMatching(/the worker exited/)]));
        expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
        expect(crashing.size).toBe(2);
        // Before the fix, every later job went on failing (or hung) behind the dead worker.
        const after = await Promise.all(files.map((f) => crashing.process(f, 'image/jpeg', limits, subject)));
        expect(after).toHaveLength(files.length);
      } finally {
        await crashing.close();
      }
    });
  });

  describe('off the event loop (issue 11, item 3)', () => {
    // The worst case for the redactor at its size limit: the shape that was quadratic before.
    const worstReport = Buffer.from('a.'.repeat(MAX_REPORT_CHARS / 2), 'utf8');

    /** How many times the event loop turned (setImmediate callbacks ran) while `work` ran. */
    async function turnsDuring(work: Promise<unknown>): Promise<number> {
      let turns = 0;
      let done = false;
      const spin = () => {
        if (done) return;
        turns++;
        setImmediate(spin);
      };
      setImmediate(spin);
      await work.finally(() => (done = true));
      return turns;
    }

    async function redactWith(processor: AssetProcessorPort) {
      const warm = await processor.process(Buffer.from('warm up'), 'text/plain', limits, subject);
      expect(warm.kind).toBe('report');
      return turnsDuring(processor.process(worstReport, 'text/plain', limits, subject));
    }

    it('redacts a worst-case report at the size limit in a worker while the main thread keeps serving', async () => {
      expect(await redactWith(pool)).toBeGreaterThan(1);
    });

    it('is what the inline processor cannot do: it holds the event loop for the whole redaction (the control)', async () => {
      expect(await redactWith(new InlineProcessor())).toBeLessThanOrEqual(1);
    });

    it('runs in worker threads by default: one core less than the machine, at least one', () => {
      expect(ingestionConfigFromEnv({}).workers).toBe(defaultWorkers());
      expect(defaultWorkers()).toBeGreaterThanOrEqual(1);
      expect(ingestionConfigFromEnv({ INGESTION_WORKERS: '0' }).workers).toBe(0);
    });

    it.each([
      [1, 1],
      [2, 1],
      [4, 3],
      [16, 15],
    ])('sizes the pool from the cores: %i cores, %i workers', (cores, workers) => {
      expect(defaultWorkers(cores)).toBe(workers);
    });
  });
});
