import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { HashingMeter } from './hashing-meter';
import { tooLarge } from './filesystem-object-storage';
import type { ObjectStorage, PutOptions, StorageArea, StoredObject } from './object-storage';
import { assertArea, assertKey, assertListPrefix, contentKey, TEMP_PREFIX } from './storage-key';
import { StorageErrorCode, StorageException } from './storage.exception';

export interface S3ObjectStorageConfig {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region: string;
  buckets: Record<StorageArea, string>;
  /**
   * Multipart part size: the memory one streaming upload holds at most. 16 MiB caps a streamed
   * object at 160 GiB (10,000 parts); minio's default (64 MiB) would hold 64 MiB per upload.
   */
  partSizeBytes?: number;
}

/** putBuffer asks whether a body this big is already stored before sending it. */
export const STAT_BEFORE_PUT_BYTES = 8 * 1024 * 1024;

/**
 * S3 (MinIO, SeaweedFS, AWS) with one bucket per area. Streams go to `tmp/<uuid>` while being
 * hashed, then are copied server-side to their content address; the temporary object is removed.
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly kind = 's3' as const;
  readonly client: Minio.Client;
  private ready: Promise<void> | null = null;

  constructor(readonly config: S3ObjectStorageConfig) {
    for (const area of ['raw', 'curated', 'artifacts'] as const) {
      if (!config.buckets[area]) throw new StorageException(StorageErrorCode.InvalidConfig, `no bucket configured for area ${area}`);
    }
    this.client = new Minio.Client({
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      // Path-style addressing works with every S3-compatible server, virtual-host style does not.
      pathStyle: true,
      partSize: config.partSizeBytes ?? 16 * 1024 * 1024,
    });
  }

  /** Creates missing buckets; every operation waits for it, so calling it is optional but fails fast. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const bucket of new Set(Object.values(this.config.buckets))) {
        if (!(await this.client.bucketExists(bucket))) {
          try {
            await this.client.makeBucket(bucket, this.config.region);
          } catch (err) {
            // Another process created it between the check and the call.
            if (!(await this.client.bucketExists(bucket))) throw err;
          }
        }
      }
    })().catch((err) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async putBuffer(area: StorageArea, body: Buffer, options: PutOptions = {}): Promise<StoredObject> {
    const bucket = await this.bucket(area);
    if (options.maxBytes !== undefined && body.length > options.maxBytes) throw tooLarge(options.maxBytes);
    const sha256 = options.sha256 ?? createHash('sha256').update(body).digest('hex');
    const key = contentKey(options.prefix, sha256);
    // The key is the content's hash, so putting the same bytes again under it changes nothing a
    // reader can see: no stat first (a second round trip per blob). Only a body big enough that
    // sending it again costs more than asking is checked for first.
    if (body.length < STAT_BEFORE_PUT_BYTES || !(await this.stat(area, key))) {
      // A single PUT is atomic on S3: either the whole object appears under the key or nothing.
      await this.client.putObject(bucket, key, body, body.length, metadata(options));
    }
    return { area, key, sha256, size: body.length };
  }

  async putStream(area: StorageArea, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    const bucket = await this.bucket(area);
    if (options.prefix) contentKey(options.prefix, '0');
    const tempKey = `${TEMP_PREFIX}${randomUUID()}`;
    try {
      const meter = HashingMeter.metering(body, options.maxBytes, () => tooLarge(options.maxBytes!));
      await this.client.putObject(bucket, tempKey, meter, undefined, metadata(options));
      if (meter.failure) throw meter.failure;
      const sha256 = meter.sha256;
      const key = contentKey(options.prefix, sha256);
      if (!(await this.stat(area, key))) {
        await this.client.copyObject(bucket, key, `/${bucket}/${tempKey}`, new Minio.CopyConditions());
      }
      return { area, key, sha256, size: meter.bytes };
    } finally {
      await this.client.removeIncompleteUpload(bucket, tempKey).catch(() => undefined);
      await this.client.removeObject(bucket, tempKey).catch(() => undefined);
    }
  }

  async get(area: StorageArea, key: string): Promise<Readable> {
    const bucket = await this.bucket(area, key);
    try {
      return await this.client.getObject(bucket, key);
    } catch (err) {
      throw notFoundOr(err, area, key);
    }
  }

  async getBuffer(area: StorageArea, key: string): Promise<Buffer> {
    const stream = await this.get(area, key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async stat(area: StorageArea, key: string): Promise<{ size: number } | null> {
    const bucket = await this.bucket(area, key);
    try {
      const s = await this.client.statObject(bucket, key);
      return { size: s.size };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(area: StorageArea, key: string): Promise<void> {
    const bucket = await this.bucket(area, key);
    await this.client.removeObject(bucket, key);
  }

  async *list(area: StorageArea, prefix = ''): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    const bucket = await this.bucket(area);
    assertListPrefix(prefix);
    for await (const item of this.client.listObjectsV2(bucket, prefix, true)) {
      if (item.name) yield { key: item.name, size: item.size, lastModified: item.lastModified };
    }
  }

  async presignedGetUrl(area: StorageArea, key: string, expirySeconds: number): Promise<string> {
    const bucket = await this.bucket(area, key);
    return this.client.presignedGetObject(bucket, key, Math.max(1, Math.floor(expirySeconds)));
  }

  /** Aborts multipart uploads under tmp/ started before `before` (a crashed streaming put). */
  async abortIncompleteUploads(before: Date): Promise<number> {
    await this.init();
    let aborted = 0;
    for (const bucket of new Set(Object.values(this.config.buckets))) {
      const uploads: { key: string; initiated?: Date }[] = [];
      for await (const u of this.client.listIncompleteUploads(bucket, TEMP_PREFIX, true) as AsyncIterable<{ key: string; initiated?: Date }>) uploads.push(u);
      for (const u of uploads) {
        if (u.initiated && u.initiated >= before) continue;
        await this.client.removeIncompleteUpload(bucket, u.key);
        aborted++;
      }
    }
    return aborted;
  }

  private async bucket(area: StorageArea, key?: string): Promise<string> {
    assertArea(area);
    if (key !== undefined) assertKey(key);
    await this.init();
    return this.config.buckets[area];
  }
}

function metadata(options: PutOptions): Record<string, string> {
  return options.contentType ? { 'Content-Type': options.contentType } : {};
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey';
}

function notFoundOr(err: unknown, area: StorageArea, key: string): unknown {
  return isNotFound(err) ? new StorageException(StorageErrorCode.NotFound, `no object ${key} in area ${area}`) : err;
}
