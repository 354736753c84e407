import { DynamicModule, Global, Module } from '@nestjs/common';
import { openObjectStorage } from './object-storage.factory';
import { OBJECT_STORAGE, ObjectStorage } from './object-storage';
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
          useFactory: (): Promise<ObjectStorage> => openObjectStorage(options.env ?? process.env, options.storage),
        },
      ],
      exports: [OBJECT_STORAGE],
    };
  }
}
