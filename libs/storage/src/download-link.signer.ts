import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadOrCreateSecret } from '@trellis/common';
import type { StorageArea } from './object-storage';
import { StorageErrorCode, StorageException } from './storage.exception';

/** Route the filesystem adapter's download links point at (served by StorageDownloadController). */
export const DOWNLOAD_ROUTE = 'storage';

/**
 * Signs and verifies `/storage/<area>/<key>?expires=<unix seconds>&signature=<hex>` links, the
 * filesystem adapter's stand-in for S3 presigned URLs: HMAC-SHA256 over area, key and expiry.
 */
export class DownloadLinkSigner {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new StorageException(StorageErrorCode.InvalidConfig, 'the storage signing key must be at least 32 bytes');
  }

  /**
   * TRELLIS_STORAGE_SIGNING_KEY when set (hex or any string of at least 32 characters), else a
   * random key generated on first use and kept (mode 0600) at `keyFile`, so links survive restarts.
   */
  static fromEnvOrFile(env: NodeJS.ProcessEnv, keyFile: string): DownloadLinkSigner {
    const configured = env.TRELLIS_STORAGE_SIGNING_KEY;
    if (configured) return new DownloadLinkSigner(/^[0-9a-f]{64,}$/i.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'utf8'));
    return new DownloadLinkSigner(loadOrCreateSecret(keyFile));
  }

  sign(area: StorageArea, key: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${area}\n${key}\n${expires}`).digest('hex');
  }

  path(area: StorageArea, key: string, expirySeconds: number, nowMs = Date.now()): string {
    const expires = Math.floor(nowMs / 1000) + Math.max(1, Math.floor(expirySeconds));
    const encodedKey = key.split('/').map(encodeURIComponent).join('/');
    return `/${DOWNLOAD_ROUTE}/${area}/${encodedKey}?expires=${expires}&signature=${this.sign(area, key, expires)}`;
  }

  /** Throws LinkInvalid / LinkExpired with a message saying which. */
  verify(area: StorageArea, key: string, expires: unknown, signature: unknown, nowMs = Date.now()): void {
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires)) {
      throw new StorageException(StorageErrorCode.LinkInvalid, 'the download link has no valid expires parameter');
    }
    if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) {
      throw new StorageException(StorageErrorCode.LinkInvalid, 'the download link has no valid signature parameter');
    }
    const expected = Buffer.from(this.sign(area, key, Number(expires)), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw new StorageException(StorageErrorCode.LinkInvalid, 'the download link signature does not match (altered link or another signing key)');
    }
    // Checked after the signature so an attacker cannot learn anything from the order of checks.
    if (Math.floor(nowMs / 1000) > Number(expires)) {
      throw new StorageException(StorageErrorCode.LinkExpired, `the download link expired at ${new Date(Number(expires) * 1000).toISOString()}`);
    }
  }
}
