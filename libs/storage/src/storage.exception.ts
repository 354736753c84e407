import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum StorageErrorCode {
  InvalidKey = 'STORAGE_INVALID_KEY',
  TooLarge = 'STORAGE_TOO_LARGE',
  NotFound = 'STORAGE_NOT_FOUND',
  LinkInvalid = 'STORAGE_LINK_INVALID',
  LinkExpired = 'STORAGE_LINK_EXPIRED',
  InvalidConfig = 'STORAGE_INVALID_CONFIG',
}

/** Messages name the area, key or limit at fault, never the content. */
export class StorageException extends DomainException<StorageErrorCode> {
  /** An object written by another service may not be visible yet (S3 consistency, replication). */
  override get transient(): boolean {
    return this.code === StorageErrorCode.NotFound;
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case StorageErrorCode.InvalidKey:
      case StorageErrorCode.TooLarge:
      case StorageErrorCode.InvalidConfig:
        return 'validation';
      case StorageErrorCode.NotFound:
        return 'not_found';
      case StorageErrorCode.LinkInvalid:
      case StorageErrorCode.LinkExpired:
        return 'forbidden';
      default:
        return unreachable(this.code);
    }
  }
}
