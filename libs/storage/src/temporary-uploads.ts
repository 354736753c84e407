import type { ObjectStorage, StorageArea } from './object-storage';
import { TEMP_PREFIX } from './storage-key';

/**
 * Removes temporary uploads older than `olderThanMs` from every area: what a crashed or killed
 * put left behind. Younger ones may still be in flight and are kept. Returns how many went.
 */
export async function cleanupTemporaryUploads(storage: ObjectStorage, olderThanMs: number, now = new Date()): Promise<number> {
  const cutoff = now.getTime() - olderThanMs;
  let removed = 0;
  for (const area of ['raw', 'curated', 'artifacts'] as StorageArea[]) {
    const stale: string[] = [];
    for await (const item of storage.list(area, TEMP_PREFIX)) {
      if (item.lastModified.getTime() < cutoff) stale.push(item.key);
    }
    for (const key of stale) {
      await storage.delete(area, key);
      removed++;
    }
  }
  const s3 = storage as ObjectStorage & { abortIncompleteUploads?: (before: Date) => Promise<number> };
  if (typeof s3.abortIncompleteUploads === 'function') removed += await s3.abortIncompleteUploads(new Date(cutoff));
  return removed;
}
