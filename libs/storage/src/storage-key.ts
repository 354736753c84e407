import { STORAGE_AREAS } from '@trellis/contracts';
import type { StorageArea } from './object-storage';
import { StorageErrorCode, StorageException } from './storage.exception';

/** Uploads in flight live here until they are moved under their content address. */
export const TEMP_PREFIX = 'tmp/';

// The same rules for both adapters, so a key valid on the laptop is valid on S3 and can never
// climb out of the filesystem root: ASCII letters, digits, '.', '_', '-', and '/' between segments.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 1024;

export function assertArea(area: string): asserts area is StorageArea {
  if (!(STORAGE_AREAS as readonly string[]).includes(area)) {
    throw new StorageException(StorageErrorCode.InvalidKey, `unknown storage area '${area}': expected one of ${STORAGE_AREAS.join(', ')}`);
  }
}

export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw invalid('a storage key must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) throw invalid(`a storage key may be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  if (key.startsWith('/')) throw invalid('a storage key must not start with /');
  if (key.endsWith('/')) throw invalid('a storage key must not end with /');
  for (const segment of key.split('/')) {
    if (segment === '') throw invalid('a storage key must not contain an empty segment (//)');
    if (segment === '.' || segment === '..') throw invalid('a storage key must not contain . or .. segments');
    if (!SEGMENT.test(segment)) throw invalid('a storage key may contain only letters, digits, . _ - and / between segments');
  }
}

/** A put prefix: empty, or segments ending in '/', and never inside the temporary area. */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/')) throw invalid(`a storage prefix must end with /`);
  assertKey(prefix.slice(0, -1));
  if (prefix.startsWith(TEMP_PREFIX)) throw invalid(`the prefix ${TEMP_PREFIX} is reserved for uploads in progress`);
}

/** A list prefix may be any leading part of a key ('' lists everything). */
export function assertListPrefix(prefix: string): void {
  if (prefix === '') return;
  assertKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

export function contentKey(prefix: string | undefined, sha256: string): string {
  const p = prefix ?? '';
  assertPrefix(p);
  return `${p}${sha256}`;
}

function invalid(message: string): StorageException {
  return new StorageException(StorageErrorCode.InvalidKey, message);
}
