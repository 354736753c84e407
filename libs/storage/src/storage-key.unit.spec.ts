import { randomBytes } from 'node:crypto';
import { DownloadLinkSigner } from './download-link.signer';
import { FilesystemObjectStorage } from './filesystem-object-storage';
import { createObjectStorageFromEnv } from './object-storage.factory';
import { S3ObjectStorage } from './s3-object-storage';
import { assertKey, assertPrefix, contentKey } from './storage-key';
import { StorageErrorCode, StorageException } from './storage.exception';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof StorageException ? err.code : 'OTHER';
  }
  return undefined;
}

describe('storage keys', () => {
  describe(assertKey.name, () => {
    it.each(['abc', 'subjects/0b1e/9f86d081884c7d65', 'a.b_c-d/E9'])('accepts %s', (key) => {
      expect(codeOf(() => assertKey(key))).toBeUndefined();
    });

    it.each(['', '/abs', 'a/', 'a//b', '../x', 'a/../b', './a', 'a b', 'a\\b', 'ä', 'a?b'])('rejects %j', (key) => {
      expect(codeOf(() => assertKey(key))).toBe(StorageErrorCode.InvalidKey);
    });

    it('rejects keys over 1024 characters', () => {
      expect(codeOf(() => assertKey('x'.repeat(1024)))).toBeUndefined();
      expect(codeOf(() => assertKey('x'.repeat(1025)))).toBe(StorageErrorCode.InvalidKey);
    });
  });

  describe(contentKey.name, () => {
    it('joins prefix and hash, and refuses the reserved tmp/ prefix', () => {
      expect(contentKey('subjects/s1/', 'ab')).toBe('subjects/s1/ab');
      expect(contentKey(undefined, 'ab')).toBe('ab');
      expect(codeOf(() => assertPrefix('tmp/'))).toBe(StorageErrorCode.InvalidKey);
      expect(codeOf(() => assertPrefix('subjects'))).toBe(StorageErrorCode.InvalidKey);
    });
  });
});

describe(DownloadLinkSigner.name, () => {
  const signer = new DownloadLinkSigner(randomBytes(32));
  const now = Date.UTC(2026, 0, 1);

  describe('verify', () => {
    it('accepts its own link until it expires, then says it expired', () => {
      const url = new URL('http://x' + signer.path('curated', 'p/abc', 60, now));
      const [, , area, ...key] = url.pathname.split('/');
      expect(area).toBe('curated');
      const args = ['curated', key.join('/'), url.searchParams.get('expires'), url.searchParams.get('signature')] as const;
      expect(() => signer.verify(...args, now + 59_000)).not.toThrow();
      expect(codeOf(() => signer.verify(...args, now + 61_000))).toBe(StorageErrorCode.LinkExpired);
    });

    it('refuses another key, another area, another expiry, another signing key', () => {
      const expires = String(Math.floor(now / 1000) + 60);
      const sig = signer.sign('raw', 'k1', Number(expires));
      expect(codeOf(() => signer.verify('raw', 'k2', expires, sig, now))).toBe(StorageErrorCode.LinkInvalid);
      expect(codeOf(() => signer.verify('curated', 'k1', expires, sig, now))).toBe(StorageErrorCode.LinkInvalid);
      expect(codeOf(() => signer.verify('raw', 'k1', String(Number(expires) + 1), sig, now))).toBe(StorageErrorCode.LinkInvalid);
      expect(codeOf(() => new DownloadLinkSigner(randomBytes(32)).verify('raw', 'k1', expires, sig, now))).toBe(StorageErrorCode.LinkInvalid);
      expect(codeOf(() => signer.verify('raw', 'k1', undefined, sig, now))).toBe(StorageErrorCode.LinkInvalid);
      expect(codeOf(() => signer.verify('raw', 'k1', expires, 'zz', now))).toBe(StorageErrorCode.LinkInvalid);
    });
  });
});

describe(createObjectStorageFromEnv.name, () => {
  it('chooses S3 when S3_ENDPOINT is set, with one bucket per area under the prefix', () => {
    const s = createObjectStorageFromEnv({ S3_ENDPOINT: 'https://s3.example.org:9443', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b' }) as S3ObjectStorage;
    expect(s).toBeInstanceOf(S3ObjectStorage);
    expect(s.config).toMatchObject({
      endPoint: 's3.example.org',
      port: 9443,
      useSSL: true,
      region: 'us-east-1',
      buckets: { raw: 'trellis-raw', curated: 'trellis-curated', artifacts: 'trellis-artifacts' },
    });
  });

  it('refuses S3 without credentials or with a bad bucket prefix, naming the variable', () => {
    expect(() => createObjectStorageFromEnv({ S3_ENDPOINT: 'http://h:1' })).toThrow(/S3_ACCESS_KEY/);
    expect(() => createObjectStorageFromEnv({ S3_ENDPOINT: 'http://h:1', S3_ACCESS_KEY: 'a', S3_SECRET_KEY: 'b', S3_BUCKET_PREFIX: 'Bad_' })).toThrow(
      /S3_BUCKET_PREFIX/,
    );
  });

  it('falls back to the filesystem under TRELLIS_DATA_DIR/blobs', () => {
    const s = createObjectStorageFromEnv({ TRELLIS_DATA_DIR: '/tmp/trellis-x', TRELLIS_STORAGE_SIGNING_KEY: 'k'.repeat(32) }) as FilesystemObjectStorage;
    expect(s).toBeInstanceOf(FilesystemObjectStorage);
    expect(s.rootDir).toBe('/tmp/trellis-x/blobs');
  });
});
