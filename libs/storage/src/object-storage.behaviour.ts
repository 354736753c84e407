import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStorage, StorageArea } from './object-storage';
import { StorageErrorCode, StorageException } from './storage.exception';
import { TEMP_PREFIX } from './storage-key';
import { cleanupTemporaryUploads } from './temporary-uploads';

/** What each adapter's integration spec supplies to the shared suite. */
export interface ObjectStorageHarness {
  storage: ObjectStorage;
  /** Makes a presigned link fetchable (the filesystem adapter's are served by a test app). */
  fetchUrl(link: string): string;
  /** Leaves a temporary upload behind, as a crashed put would. */
  plantTemporaryUpload(area: StorageArea): Promise<string>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A deterministic stream of `chunks` MiB, generated lazily (never held in memory whole). */
function generated(chunks: number, seed: number): { stream: Readable; expected: () => string } {
  const hash = createHash('sha256');
  function* gen(): Generator<Buffer> {
    for (let i = 0; i < chunks; i++) {
      const chunk = Buffer.alloc(MiB);
      // Varying content per chunk so a dropped or repeated chunk changes the hash.
      for (let o = 0; o < MiB; o += 4) chunk.writeUInt32LE((Math.imul(i + seed, 2654435761) ^ o) >>> 0, o);
      hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(gen(), { objectMode: false }), expected: () => hash.digest('hex') };
}

async function keys(storage: ObjectStorage, area: StorageArea, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(area, prefix)) out.push(o.key);
  return out.sort();
}

async function expectStorageError(p: Promise<unknown>, code: StorageErrorCode): Promise<StorageException> {
  const err = await p.then(
    () => {
      throw new Error('expected a StorageException');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageException);
  expect((err as StorageException).code).toBe(code);
  return err as StorageException;
}

/**
 * The behaviour every ObjectStorage adapter must have, run against each one by its own
 * `*.int.spec.ts` with real backing storage.
 */
export function describeObjectStorageBehaviour(open: () => Promise<ObjectStorageHarness>): void {
  let h: ObjectStorageHarness;
  let storage: ObjectStorage;
  let run: string;

  beforeAll(async () => {
    h = await open();
    storage = h.storage;
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    run = `t-${randomBytes(4).toString('hex')}/`;
  });

  describe('putBuffer', () => {
    it('stores content under <prefix><sha256> and reads it back', async () => {
      const body = randomBytes(1000);
      const stored = await storage.putBuffer('raw', body, { prefix: run, contentType: 'application/octet-stream' });
      expect(stored).toEqual({ area: 'raw', key: `${run}${sha256(body)}`, sha256: sha256(body), size: 1000 });
      expect((await storage.getBuffer('raw', stored.key)).equals(body)).toBe(true);
      expect(await storage.stat('raw', stored.key)).toEqual({ size: 1000 });
      expect(await storage.stat('curated', stored.key)).toBeNull();
    });

    it('is idempotent: the same content twice gives the same key and one object', async () => {
      const body = Buffer.from('same content');
      const a = await storage.putBuffer('curated', body, { prefix: run });
      const b = await storage.putBuffer('curated', body, { prefix: run });
      expect(b).toEqual(a);
      expect(await keys(storage, 'curated', run)).toEqual([a.key]);
    });

    it('refuses a body over maxBytes and stores nothing', async () => {
      await expectStorageError(storage.putBuffer('raw', Buffer.alloc(11), { prefix: run, maxBytes: 10 }), StorageErrorCode.TooLarge);
      expect(await keys(storage, 'raw', run)).toEqual([]);
    });

    it('rejects unsafe prefixes with a message saying why', async () => {
      for (const prefix of ['../', '/abs/', 'a//', 'sp ace/', 'no-slash', `${TEMP_PREFIX}x/`]) {
        await expectStorageError(storage.putBuffer('raw', Buffer.from('x'), { prefix }), StorageErrorCode.InvalidKey);
      }
    });
  });

  describe('putStream', () => {
    it('streams 64 MiB from a generator, hashing on the way, and leaves no temporary upload', async () => {
      const tempBefore = await keys(storage, 'artifacts', TEMP_PREFIX);
      const { stream, expected } = generated(64, 1);
      const stored = await storage.putStream('artifacts', stream, { prefix: run });
      const want = expected();
      expect(stored).toEqual({ area: 'artifacts', key: `${run}${want}`, sha256: want, size: 64 * MiB });
      expect(await storage.stat('artifacts', stored.key)).toEqual({ size: 64 * MiB });
      const readBack = createHash('sha256');
      for await (const chunk of await storage.get('artifacts', stored.key)) readBack.update(chunk as Buffer);
      expect(readBack.digest('hex')).toBe(want);
      expect(await keys(storage, 'artifacts', TEMP_PREFIX)).toEqual(tempBefore);
      await storage.delete('artifacts', stored.key);
    });

    it('gives the same key as putBuffer for the same content', async () => {
      const body = randomBytes(300_000);
      const viaStream = await storage.putStream('raw', Readable.from([body.subarray(0, 1000), body.subarray(1000)]), { prefix: run });
      const viaBuffer = await storage.putBuffer('raw', body, { prefix: run });
      expect(viaStream).toEqual(viaBuffer);
      expect(await keys(storage, 'raw', run)).toEqual([viaBuffer.key]);
    });

    it('aborts a stream longer than maxBytes and keeps nothing, not even a temporary upload', async () => {
      const tempBefore = await keys(storage, 'raw', TEMP_PREFIX);
      const { stream } = generated(8, 2);
      const err = await expectStorageError(storage.putStream('raw', stream, { prefix: run, maxBytes: 3 * MiB }), StorageErrorCode.TooLarge);
      expect(err.message).toContain(String(3 * MiB));
      expect(await keys(storage, 'raw', run)).toEqual([]);
      expect(await keys(storage, 'raw', TEMP_PREFIX)).toEqual(tempBefore);
    });

    it('fails when the source fails midway and keeps nothing', async () => {
      const tempBefore = await keys(storage, 'raw', TEMP_PREFIX);
      const source = new Readable({ read() {} });
      source.push(randomBytes(1000));
      setTimeout(() => source.destroy(new Error('client went away')), 20);
      await expect(storage.putStream('raw', source, { prefix: run })).rejects.toThrow('client went away');
      expect(await keys(storage, 'raw', run)).toEqual([]);
      expect(await keys(storage, 'raw', TEMP_PREFIX)).toEqual(tempBefore);
    });
  });

  describe('get', () => {
    it('reports a missing object as NOT_FOUND', async () => {
      await expectStorageError(storage.getBuffer('raw', `${run}missing`), StorageErrorCode.NotFound);
      await expectStorageError(storage.get('raw', `${run}missing`), StorageErrorCode.NotFound);
    });

    it('reports a key that is only a prefix of other keys (a folder) as NOT_FOUND', async () => {
      await storage.putBuffer('raw', randomBytes(10), { prefix: `${run}folder/` });
      await expectStorageError(storage.getBuffer('raw', `${run}folder`), StorageErrorCode.NotFound);
      await expectStorageError(storage.get('raw', `${run}folder`), StorageErrorCode.NotFound);
      expect(await storage.stat('raw', `${run}folder`)).toBeNull();
    });

    it('rejects keys that could escape the area', async () => {
      for (const key of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a//b', '', 'a/', 'semi;colon']) {
        await expectStorageError(storage.getBuffer('raw', key), StorageErrorCode.InvalidKey);
      }
      await expectStorageError(storage.getBuffer('elsewhere' as StorageArea, 'a'), StorageErrorCode.InvalidKey);
    });
  });

  describe('delete', () => {
    it('removes the object; deleting a missing one is not an error', async () => {
      const stored = await storage.putBuffer('raw', randomBytes(10), { prefix: run });
      await storage.delete('raw', stored.key);
      expect(await storage.stat('raw', stored.key)).toBeNull();
      await expect(storage.delete('raw', stored.key)).resolves.toBeUndefined();
    });
  });

  describe('list', () => {
    it('lists every key under a prefix and only those', async () => {
      const a = await Promise.all([1, 2, 3].map((i) => storage.putBuffer('curated', Buffer.from(`a${i}`), { prefix: `${run}a/` })));
      const b = await Promise.all([1, 2].map((i) => storage.putBuffer('curated', Buffer.from(`b${i}`), { prefix: `${run}b/` })));
      expect(await keys(storage, 'curated', `${run}a/`)).toEqual(a.map((o) => o.key).sort());
      expect(await keys(storage, 'curated', run)).toEqual([...a, ...b].map((o) => o.key).sort());
      const listed: { size: number; lastModified: Date }[] = [];
      for await (const o of storage.list('curated', `${run}b/`)) listed.push(o);
      expect(listed.map((o) => o.size)).toEqual([2, 2]);
      // Within the hour around now (same machine as the store): a real modification time, not a placeholder.
      for (const o of listed) expect(Math.abs(o.lastModified.getTime() - Date.now())).toBeLessThan(60 * 60 * 1000);
    });
  });

  describe('presignedGetUrl', () => {
    it('gives a link that downloads the object, and stops working after expiry', async () => {
      const body = randomBytes(5000);
      const stored = await storage.putBuffer('curated', body, { prefix: run });
      const link = h.fetchUrl(await storage.presignedGetUrl('curated', stored.key, 2));
      const ok = await fetch(link);
      expect(ok.status).toBe(200);
      expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);
      // Past the expiry (whole seconds on both adapters, plus margin); not a timing assertion.
      await new Promise((r) => setTimeout(r, 3500));
      const expired = await fetch(link);
      expect(expired.status).toBe(403);
    });
  });

  describe(cleanupTemporaryUploads.name, () => {
    it('removes temporary uploads older than the cut-off and keeps younger ones', async () => {
      const planted = await h.plantTemporaryUpload('raw');
      expect(await keys(storage, 'raw', TEMP_PREFIX)).toContain(planted);
      // Younger than an hour: kept (it may still be in flight).
      await cleanupTemporaryUploads(storage, 60 * 60 * 1000);
      expect(await keys(storage, 'raw', TEMP_PREFIX)).toContain(planted);
      // Seen from two hours later it is stale.
      const removed = await cleanupTemporaryUploads(storage, 60 * 60 * 1000, new Date(Date.now() + 2 * 60 * 60 * 1000));
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await keys(storage, 'raw', TEMP_PREFIX)).not.toContain(planted);
    });
  });
}
