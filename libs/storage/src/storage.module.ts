import { DynamicModule, Global, Module } from '@nestjs/common';
import { createObjectStorageFromEnv } from './object-storage.factory';
import { OBJECT_STORAGE, ObjectStorage } from './object-storage';
import { S3ObjectStorage } from './s3-object-storage';
import { StorageDownloadController } from './storage-download.controller';

/**
 * Provides OBJECT_STORAGE (chosen from the environment unless an instance is given) and the
 * download route for filesystem links. With S3, buckets are created before the app starts.
 */
@Global()
@Module({})
export class StorageModule {
  static forRoot(options: { storage?: ObjectStorage; env?: NodeJS.ProcessEnv } = {}): DynamicModule {
    return {
      module: StorageModule,
      controllers: [StorageDownloadController],
      providers: [
        {
          provide: OBJECT_STORAGE,
          useFactory: async (): Promise<ObjectStorage> => {
            const storage = options.storage ?? createObjectStorageFromEnv(options.env ?? process.env);
            if (storage instanceof S3ObjectStorage) await storage.init();
            return storage;
          },
        },
      ],
      exports: [OBJECT_STORAGE],
    };
  }
}
