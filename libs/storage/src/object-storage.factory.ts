import { join } from 'node:path';
import { dataDirFromEnv } from '@trellis/common';
import { DownloadLinkSigner } from './download-link.signer';
import { FilesystemObjectStorage } from './filesystem-object-storage';
import type { ObjectStorage, StorageArea } from './object-storage';
import { S3ObjectStorage } from './s3-object-storage';
import { StorageErrorCode, StorageException } from './storage.exception';

/**
 * S3 when S3_ENDPOINT is set (with S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION default us-east-1,
 * S3_BUCKET_PREFIX default 'trellis-', one bucket per area), else the filesystem under
 * `${TRELLIS_DATA_DIR}/blobs` (TRELLIS_DATA_DIR defaults to `.trellis/data`). Filesystem
 * download links are prefixed with TRELLIS_PUBLIC_URL (default http://localhost:${PORT or 3000}).
 */
export function createObjectStorageFromEnv(env: NodeJS.ProcessEnv = process.env): ObjectStorage {
  if (env.S3_ENDPOINT) {
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(env.S3_ENDPOINT) ? env.S3_ENDPOINT : `http://${env.S3_ENDPOINT}`);
    } catch {
      throw new StorageException(StorageErrorCode.InvalidConfig, 'S3_ENDPOINT is not a valid URL (expected e.g. http://127.0.0.1:9000)');
    }
    if (!env.S3_ACCESS_KEY || !env.S3_SECRET_KEY) {
      throw new StorageException(StorageErrorCode.InvalidConfig, 'S3_ENDPOINT is set but S3_ACCESS_KEY or S3_SECRET_KEY is missing');
    }
    const prefix = env.S3_BUCKET_PREFIX ?? 'trellis-';
    const buckets = Object.fromEntries((['raw', 'curated', 'artifacts'] as StorageArea[]).map((a) => [a, `${prefix}${a}`])) as Record<StorageArea, string>;
    for (const b of Object.values(buckets)) {
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))
        throw new StorageException(StorageErrorCode.InvalidConfig, `S3_BUCKET_PREFIX gives an invalid bucket name ${b}`);
    }
    const useSSL = url.protocol === 'https:';
    return new S3ObjectStorage({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: env.S3_ACCESS_KEY,
      secretKey: env.S3_SECRET_KEY,
      region: env.S3_REGION || 'us-east-1',
      buckets,
    });
  }
  const dataDir = dataDirFromEnv(env);
  const root = join(dataDir, 'blobs');
  return new FilesystemObjectStorage(root, {
    signer: DownloadLinkSigner.fromEnvOrFile(env, join(root, '.signing-key')),
    publicBaseUrl: env.TRELLIS_PUBLIC_URL ?? `http://localhost:${env.PORT || 3000}`,
  });
}

/** The storage of `createObjectStorageFromEnv`, ready to use: with S3, its buckets exist. */
export async function openObjectStorage(
  env: NodeJS.ProcessEnv = process.env,
  storage: ObjectStorage = createObjectStorageFromEnv(env),
): Promise<ObjectStorage> {
  if (storage instanceof S3ObjectStorage) await storage.init();
  return storage;
}
