import { createHash, randomUUID } from 'node:crypto';
import { FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { DownloadLinkSigner } from './download-link.signer';
import { HashingMeter } from './hashing-meter';
import type { ObjectStorage, PutOptions, StorageArea, StoredObject } from './object-storage';
import { assertArea, assertKey, assertListPrefix, contentKey, TEMP_PREFIX } from './storage-key';
import { StorageErrorCode, StorageException } from './storage.exception';

export interface FilesystemObjectStorageOptions {
  /** Defaults to TRELLIS_STORAGE_SIGNING_KEY, else a key kept at `<rootDir>/.signing-key`. */
  signer?: DownloadLinkSigner;
  /** Prepended to download paths, e.g. `http://localhost:3000`; empty gives a relative link. */
  publicBaseUrl?: string;
}

/**
 * Blobs as files: `<root>/<area>/<key>`. Every write goes to `<area>/tmp/<uuid>`, is fsynced and
 * then renamed under its address, so a crash leaves at most a temporary file (removed by
 * cleanupTemporaryUploads), never a partial object under a content address.
 */
export class FilesystemObjectStorage implements ObjectStorage {
  readonly kind = 'filesystem' as const;
  readonly signer: DownloadLinkSigner;
  private readonly publicBaseUrl: string;

  constructor(
    readonly rootDir: string,
    options: FilesystemObjectStorageOptions = {},
  ) {
    this.signer = options.signer ?? DownloadLinkSigner.fromEnvOrFile(process.env, join(rootDir, '.signing-key'));
    this.publicBaseUrl = (options.publicBaseUrl ?? '').replace(/\/+$/, '');
  }

  async putBuffer(area: StorageArea, body: Buffer, options: PutOptions = {}): Promise<StoredObject> {
    assertArea(area);
    if (options.maxBytes !== undefined && body.length > options.maxBytes) throw tooLarge(options.maxBytes);
    const sha256 = options.sha256 ?? createHash('sha256').update(body).digest('hex');
    const key = contentKey(options.prefix, sha256);
    if (await this.stat(area, key)) return { area, key, sha256, size: body.length };
    const temp = await this.tempPath(area);
    try {
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.moveIntoPlace(temp, area, key);
    } finally {
      await rm(temp, { force: true });
    }
    return { area, key, sha256, size: body.length };
  }

  async putStream(area: StorageArea, body: Readable, options: PutOptions = {}): Promise<StoredObject> {
    assertArea(area);
    if (options.prefix) contentKey(options.prefix, '0'); // validate before reading anything
    const temp = await this.tempPath(area);
    try {
      const meter = HashingMeter.metering(body, options.maxBytes, () => tooLarge(options.maxBytes!));
      const fh = await open(temp, 'wx', 0o600);
      try {
        // One write at a time: backpressure without a stream whose close we would have to await.
        for await (const chunk of meter) await fh.write(chunk as Buffer);
        if (meter.failure) throw meter.failure;
        await fh.sync();
      } finally {
        await fh.close();
      }
      const sha256 = meter.sha256;
      const key = contentKey(options.prefix, sha256);
      if (!(await this.stat(area, key))) await this.moveIntoPlace(temp, area, key);
      return { area, key, sha256, size: meter.bytes };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(area: StorageArea, key: string): Promise<Readable> {
    const path = this.pathOf(area, key);
    // Open first so a missing object fails here, not later inside the consumer's pipeline.
    const fh = await openFile(path, area, key);
    return fh.createReadStream();
  }

  async getBuffer(area: StorageArea, key: string): Promise<Buffer> {
    return readFile(this.pathOf(area, key)).catch((err) => {
      throw notFoundOr(err, area, key);
    });
  }

  async stat(area: StorageArea, key: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(area, key));
      return s.isFile() ? { size: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw err;
    }
  }

  async delete(area: StorageArea, key: string): Promise<void> {
    try {
      await unlink(this.pathOf(area, key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async *list(area: StorageArea, prefix = ''): AsyncIterable<{ key: string; size: number; lastModified: Date }> {
    assertArea(area);
    assertListPrefix(prefix);
    // Walk only the directory the prefix names, not the whole area.
    const slash = prefix.lastIndexOf('/');
    const baseDir = slash >= 0 ? prefix.slice(0, slash) : '';
    for await (const key of walk(join(this.rootDir, area), baseDir)) {
      if (!key.startsWith(prefix)) continue;
      const s = await stat(join(this.rootDir, area, key)).catch(() => null);
      if (s?.isFile()) yield { key, size: s.size, lastModified: s.mtime };
    }
  }

  async presignedGetUrl(area: StorageArea, key: string, expirySeconds: number): Promise<string> {
    this.pathOf(area, key);
    return this.publicBaseUrl + this.signer.path(area, key, expirySeconds);
  }

  /** For the download controller: the verified file, opened for streaming. */
  async openVerified(area: string, key: string, expires: unknown, signature: unknown): Promise<{ stream: Readable; size: number }> {
    assertArea(area);
    assertKey(key);
    this.signer.verify(area, key, expires, signature);
    const fh = await openFile(this.pathOf(area, key), area, key);
    const { size } = await fh.stat();
    return { stream: fh.createReadStream(), size };
  }

  pathOf(area: StorageArea, key: string): string {
    assertArea(area);
    assertKey(key);
    return join(this.rootDir, area, ...key.split('/'));
  }

  private async tempPath(area: StorageArea): Promise<string> {
    const dir = join(this.rootDir, area, TEMP_PREFIX);
    await mkdir(dir, { recursive: true });
    return join(dir, randomUUID());
  }

  private async moveIntoPlace(temp: string, area: StorageArea, key: string): Promise<void> {
    const target = this.pathOf(area, key);
    await mkdir(dirname(target), { recursive: true });
    // rename is atomic within one filesystem; the same content under the same name makes a
    // concurrent identical put harmless.
    await rename(temp, target);
    // Make the directory entry durable too.
    const dir = await open(dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

async function* walk(areaDir: string, relDir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(join(areaDir, relDir), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = relDir ? `${relDir}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(areaDir, rel);
    else if (e.isFile()) yield rel;
  }
}

/**
 * Opens an object's file. A key that names a folder (a prefix of other keys) opens fine on
 * Linux and only fails once read, mid-response, which dropped the connection: it is no object.
 */
async function openFile(path: string, area: StorageArea, key: string): Promise<FileHandle> {
  const fh = await open(path, 'r').catch((err) => {
    throw notFoundOr(err, area, key);
  });
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new StorageException(StorageErrorCode.NotFound, `no object ${key} in area ${area}`);
  }
  return fh;
}

function notFoundOr(err: unknown, area: StorageArea, key: string): unknown {
  if (
    (err as NodeJS.ErrnoException).code === 'ENOENT' ||
    (err as NodeJS.ErrnoException).code === 'ENOTDIR' ||
    (err as NodeJS.ErrnoException).code === 'EISDIR'
  ) {
    return new StorageException(StorageErrorCode.NotFound, `no object ${key} in area ${area}`);
  }
  return err;
}

export function tooLarge(maxBytes: number): StorageException {
  return new StorageException(StorageErrorCode.TooLarge, `the upload exceeds the limit of ${maxBytes} bytes and was discarded`);
}
