import type { Readable } from 'node:stream';
import type { ObjectStorage, PutOptions, StorageArea, StoredObject } from '@trellis/storage';

/** The real S3 adapter, with hooks before every put and delete and a signal after the first delete. */
export class HookedStorage implements ObjectStorage {
  readonly kind: 's3' | 'filesystem';
  readonly puts: Promise<unknown>[] = [];
  beforePut: (area: StorageArea, n: number) => Promise<void> = async () => undefined;
  beforeDelete: (area: StorageArea, key: string) => Promise<void> = async () => undefined;
  private putCount = 0;
  private deleted: () => void = () => undefined;
  /** Resolves after the first delete has completed. */
  readonly firstDelete = new Promise<void>((resolve) => (this.deleted = resolve));

  constructor(private readonly inner: ObjectStorage) {
    this.kind = inner.kind;
  }

  putBuffer(area: StorageArea, body: Buffer, options?: PutOptions): Promise<StoredObject> {
    const n = this.putCount++;
    const put = this.beforePut(area, n).then(() => this.inner.putBuffer(area, body, options));
    this.puts.push(put.catch(() => undefined));
    return put;
  }
  putStream(area: StorageArea, body: Readable, options?: PutOptions) {
    return this.inner.putStream(area, body, options);
  }
  get(area: StorageArea, key: string) {
    return this.inner.get(area, key);
  }
  getBuffer(area: StorageArea, key: string) {
    return this.inner.getBuffer(area, key);
  }
  stat(area: StorageArea, key: string) {
    return this.inner.stat(area, key);
  }
  async delete(area: StorageArea, key: string) {
    await this.beforeDelete(area, key);
    await this.inner.delete(area, key);
    this.deleted();
  }
  list(area: StorageArea, prefix?: string) {
    return this.inner.list(area, prefix);
  }
  presignedGetUrl(area: StorageArea, key: string, expirySeconds: number) {
    return this.inner.presignedGetUrl(area, key, expirySeconds);
  }
}
