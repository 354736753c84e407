import type { Readable } from 'node:stream';

/**
 * Where blobs live. `raw` holds originals (restricted: may contain personal data until
 * erasure), `curated` the de-identified/normalized forms training reads, `artifacts` manifests,
 * checkpoints and adapters. An S3 adapter maps each area to a bucket, the filesystem adapter to
 * a directory.
 */
export type StorageArea = 'raw' | 'curated' | 'artifacts';

export interface StoredObject {
  area: StorageArea;
  key: string;
  sha256: string;
  size: number;
}

export interface PutOptions {
  /** Prepended to the content address, e.g. `subjects/<id>/`, so a subject's blobs can be erased by prefix. */
  prefix?: string;
  contentType?: string;
  /** A stream longer than this is aborted and nothing is kept. */
  maxBytes?: number;
  /**
   * putBuffer only: the body's SHA-256 when the caller already computed it (it is the key), so
   * the bytes are not hashed a second time. A wrong value files the bytes under a wrong address.
   */
  sha256?: string;
}

/**
 * One interface, two adapters (S3/MinIO via the `minio` client; local filesystem). Keys are
 * content addressed: `<prefix><sha256 hex>`. Writing the same content twice is a no-op that
 * returns the same key, so retries and re-ingests are idempotent.
 */
export interface ObjectStorage {
  readonly kind: 's3' | 'filesystem';
  /** Bytes already in memory: hashed first, written once under their address. */
  putBuffer(area: StorageArea, body: Buffer, options?: PutOptions): Promise<StoredObject>;
  /** Large content: streamed to a temporary object while hashing, then moved under its address. */
  putStream(area: StorageArea, body: Readable, options?: PutOptions): Promise<StoredObject>;
  get(area: StorageArea, key: string): Promise<Readable>;
  getBuffer(area: StorageArea, key: string): Promise<Buffer>;
  /** Size if the object exists, else null. */
  stat(area: StorageArea, key: string): Promise<{ size: number } | null>;
  /** Deleting a missing object is not an error. */
  delete(area: StorageArea, key: string): Promise<void>;
  /** Every key under a prefix (also temporary uploads, for crash clean-up). */
  list(area: StorageArea, prefix?: string): AsyncIterable<{ key: string; size: number; lastModified: Date }>;
  /** A time-limited download link. */
  presignedGetUrl(area: StorageArea, key: string, expirySeconds: number): Promise<string>;
}

export const OBJECT_STORAGE = Symbol('OBJECT_STORAGE');
