import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpExceptionFilter } from '@trellis/runtime';
import { DownloadLinkSigner } from './download-link.signer';
import { FilesystemObjectStorage } from './filesystem-object-storage';
import { describeObjectStorageBehaviour } from './object-storage.behaviour';
import { StorageModule } from './storage.module';

async function openFilesystemHarness() {
  const root = await mkdtemp(join(tmpdir(), 'trellis-fs-storage-'));
  const storage = new FilesystemObjectStorage(root, { signer: new DownloadLinkSigner(randomBytes(32)) });
  const moduleRef = await Test.createTestingModule({ imports: [StorageModule.forRoot({ storage })] }).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new HttpExceptionFilter());
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    root,
    app,
    storage,
    base,
    fetchUrl: (link: string) => base + link,
    plantTemporaryUpload: async (area: 'raw' | 'curated' | 'artifacts') => {
      const key = `tmp/${randomUUID()}`;
      await mkdir(join(root, area, 'tmp'), { recursive: true });
      await writeFile(join(root, area, key), 'partial');
      return key;
    },
    close: async () => {
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe(FilesystemObjectStorage.name, () => {
  describeObjectStorageBehaviour(openFilesystemHarness);

  describe('download route', () => {
    let h: Awaited<ReturnType<typeof openFilesystemHarness>>;
    beforeAll(async () => (h = await openFilesystemHarness()));
    afterAll(() => h.close());

    it('refuses an altered signature, a changed key and a missing signature with 403 and a clear message', async () => {
      const a = await h.storage.putBuffer('raw', Buffer.from('one'), { prefix: 'p/' });
      const b = await h.storage.putBuffer('raw', Buffer.from('two'), { prefix: 'p/' });
      const link = await h.storage.presignedGetUrl('raw', a.key, 60);
      const tampered = link.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`);
      const r1 = await fetch(h.base + tampered);
      expect(r1.status).toBe(403);
      expect(await r1.json()).toMatchObject({ error: 'STORAGE_LINK_INVALID', message: expect.stringContaining('signature does not match') });
      const r2 = await fetch(h.base + link.replace(a.key, b.key));
      expect(r2.status).toBe(403);
      const r3 = await fetch(h.base + link.split('&signature=')[0]);
      expect(r3.status).toBe(403);
      expect(((await r3.json()) as { message: string }).message).toContain('signature');
    });

    it('says when a link has expired', async () => {
      const a = await h.storage.putBuffer('raw', Buffer.from('old'), { prefix: 'p/' });
      const expires = Math.floor(Date.now() / 1000) - 10;
      const r = await fetch(`${h.base}/storage/raw/${a.key}?expires=${expires}&signature=${h.storage.signer.sign('raw', a.key, expires)}`);
      expect(r.status).toBe(403);
      expect(await r.json()).toMatchObject({ error: 'STORAGE_LINK_EXPIRED', message: expect.stringContaining('expired') });
    });

    // A folder opened fine and failed only when read, which dropped the connection (issue 11, item 7).
    it('answers a signed link that names a folder with 404, not a dropped connection', async () => {
      await h.storage.putBuffer('raw', Buffer.from('inside'), { prefix: 'dir/sub/' });
      const link = await h.storage.presignedGetUrl('raw', 'dir/sub', 60);
      const r = await fetch(h.base + link);
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ error: 'STORAGE_NOT_FOUND' });
    });

    it('does not serve paths outside the storage root even with a valid-looking link', async () => {
      const r = await fetch(`${h.base}/storage/raw/..%2F..%2Fetc%2Fpasswd?expires=9999999999&signature=${'0'.repeat(64)}`);
      const body = await r.text();
      expect(r.status).toBe(400);
      expect(JSON.parse(body)).toMatchObject({ error: 'STORAGE_INVALID_KEY', message: expect.stringContaining('..') });
      expect(body).not.toContain('root:');
    });
  });

  describe('signing key', () => {
    it('generates a key once and reuses it from the data directory', async () => {
      const root = await mkdtemp(join(tmpdir(), 'trellis-fs-key-'));
      try {
        const env = { ...process.env, TRELLIS_STORAGE_SIGNING_KEY: '' };
        const s1 = DownloadLinkSigner.fromEnvOrFile(env, join(root, '.signing-key'));
        const s2 = DownloadLinkSigner.fromEnvOrFile(env, join(root, '.signing-key'));
        expect(s2.sign('raw', 'k', 1)).toBe(s1.sign('raw', 'k', 1));
        expect(await readdir(root)).toEqual(['.signing-key']);
        const s3 = DownloadLinkSigner.fromEnvOrFile({ TRELLIS_STORAGE_SIGNING_KEY: 'a'.repeat(64) }, join(root, '.signing-key'));
        expect(s3.sign('raw', 'k', 1)).not.toBe(s1.sign('raw', 'k', 1));
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});
