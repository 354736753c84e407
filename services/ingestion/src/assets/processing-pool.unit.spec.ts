import { encodeRgbJpeg, generateSyntheticDataset } from '@trellis/synthetic';
import { processAsset } from './asset-processor';
import { ProcessingPool } from './processing-pool';
import { AssetValidationError } from './processing';

const limits = { maxBytes: 1 << 20, maxPixels: 1 << 22, dicomUidKey: 'k' };
const subject = { pseudonym: 'p', knownNames: [] };

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
        expect({ ...r, curated: null, derivative: null }).toEqual({ ...inline, curated: null, derivative: null });
      }
    });

    it('hands back validation failures as AssetValidationError with their code', async () => {
      const err = await pool.process(Buffer.alloc(0), 'image/png', limits, subject).catch((e) => e);
      expect(err).toBeInstanceOf(AssetValidationError);
      expect(err.code).toBe('EMPTY_FILE');
    });
  });
});
