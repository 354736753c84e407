import { createHash } from 'node:crypto';
import type { ObjectStorage, StorageArea } from './object-storage';

/**
 * An object whose SHA-256 an event recorded, read back and checked: its bytes, or null when the
 * stored content differs (each caller raises its own domain's error for that).
 */
export async function getVerifiedBuffer(storage: ObjectStorage, area: StorageArea, key: string, sha256: string): Promise<Buffer | null> {
  const bytes = await storage.getBuffer(area, key);
  return createHash('sha256').update(bytes).digest('hex') === sha256 ? bytes : null;
}
