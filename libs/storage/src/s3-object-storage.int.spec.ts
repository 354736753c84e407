import { randomBytes, randomUUID } from 'node:crypto';
import { createObjectStorageFromEnv } from './object-storage.factory';
import { cleanupTemporaryUploads } from './temporary-uploads';
import { describeObjectStorageBehaviour } from './object-storage.behaviour';
import { S3ObjectStorage, STAT_BEFORE_PUT_BYTES } from './s3-object-storage';

/** Against the real S3 server the int-tier set-up starts (SeaweedFS), in buckets of this run. */
async function openS3Harness() {
  if (!process.env.S3_ENDPOINT) throw new Error('S3_ENDPOINT is not set: run through `npm run test:int`');
  const bucketPrefix = `trellis-test-${randomBytes(4).toString('hex')}-`;
  const storage = createObjectStorageFromEnv({ ...process.env, S3_BUCKET_PREFIX: bucketPrefix }) as S3ObjectStorage;
  expect(storage).toBeInstanceOf(S3ObjectStorage);
  await storage.init();
  return {
    storage,
    fetchUrl: (link: string) => link,
    plantTemporaryUpload: async (area: 'raw' | 'curated' | 'artifacts') => {
      const key = `tmp/${randomUUID()}`;
      await storage.client.putObject(storage.config.buckets[area], key, Buffer.from('partial'));
      return key;
    },
    close: async () => {
      // Leave the server as we found it: empty and remove this run's buckets.
      for (const bucket of Object.values(storage.config.buckets)) {
        const names: string[] = [];
        for await (const o of storage.client.listObjectsV2(bucket, '', true)) if (o.name) names.push(o.name);
        if (names.length) await storage.client.removeObjects(bucket, names);
        await storage.client.removeBucket(bucket);
      }
    },
  };
}

describe(S3ObjectStorage.name, () => {
  describeObjectStorageBehaviour(openS3Harness);

  describe(cleanupTemporaryUploads.name, () => {
    it('aborts a multipart upload a crashed streaming put left under tmp/, once it is old enough', async () => {
      const h = await openS3Harness();
      try {
        const bucket = h.storage.config.buckets.raw;
        const key = `tmp/${randomUUID()}`;
        await h.storage.client.initiateNewMultipartUpload(bucket, key, {});
        const pending = async () => {
          const keys: string[] = [];
          for await (const u of h.storage.client.listIncompleteUploads(bucket, 'tmp/', true)) keys.push(u.key);
          return keys;
        };
        expect(await pending()).toEqual([key]);
        await cleanupTemporaryUploads(h.storage, 60 * 60 * 1000);
        expect(await pending()).toEqual([key]); // young: may still be in flight
        expect(await cleanupTemporaryUploads(h.storage, 60 * 60 * 1000, new Date(Date.now() + 2 * 60 * 60 * 1000))).toBe(1);
        expect(await pending()).toEqual([]);
      } finally {
        await h.close();
      }
    });
  });

  describe('putBuffer', () => {
    it('stores a small body with one PUT and no stat, and re-putting it gives the same object', async () => {
      const h = await openS3Harness();
      try {
        const client = h.storage.client;
        const stat = jest.spyOn(client, 'statObject');
        const put = jest.spyOn(client, 'putObject');
        const body = randomBytes(4096);
        const first = await h.storage.putBuffer('curated', body, { prefix: 'p/', contentType: 'image/png' });
        const again = await h.storage.putBuffer('curated', body, { prefix: 'p/', contentType: 'image/png' });
        expect(again).toEqual(first);
        expect(stat).not.toHaveBeenCalled();
        expect(put).toHaveBeenCalledTimes(2);
        expect((await h.storage.getBuffer('curated', first.key)).equals(body)).toBe(true);
        const keys: string[] = [];
        for await (const o of h.storage.list('curated', 'p/')) keys.push(o.key);
        expect(keys).toEqual([first.key]);
        expect((await client.statObject(h.storage.config.buckets.curated, first.key)).metaData['content-type']).toBe('image/png');
      } finally {
        jest.restoreAllMocks();
        await h.close();
      }
    });

    it('asks before sending a body of STAT_BEFORE_PUT_BYTES or more, and does not send it again', async () => {
      const h = await openS3Harness();
      try {
        const put = jest.spyOn(h.storage.client, 'putObject');
        const body = randomBytes(STAT_BEFORE_PUT_BYTES);
        const first = await h.storage.putBuffer('raw', body, { prefix: 'big/' });
        expect(put).toHaveBeenCalledTimes(1);
        expect(await h.storage.putBuffer('raw', body, { prefix: 'big/' })).toEqual(first);
        expect(put).toHaveBeenCalledTimes(1);
      } finally {
        jest.restoreAllMocks();
        await h.close();
      }
    });
  });

  describe('init', () => {
    it('creates the bucket of every area when missing', async () => {
      const h = await openS3Harness();
      try {
        for (const bucket of Object.values(h.storage.config.buckets)) expect(await h.storage.client.bucketExists(bucket)).toBe(true);
        expect(Object.values(h.storage.config.buckets).every((b) => b.startsWith('trellis-test-'))).toBe(true);
      } finally {
        await h.close();
      }
    });
  });
});
