import { Inject, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { cleanupTemporaryUploads, OBJECT_STORAGE, ObjectStorage } from '@trellis/storage';
import { INGESTION_CONFIG } from '../ingestion.tokens';
import { IngestionConfig } from '../ingestion.config';
import { UploadRecovery } from './upload-recovery.service';

/** Runs upload recovery (and the storage's temporary-upload clean-up) at start-up and then periodically. */
export class UploadRecoveryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ingestion');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly recovery: UploadRecovery,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runOnce();
    if (this.config.recoveryIntervalMs > 0) {
      this.timer = setInterval(() => void this.runOnce(), this.config.recoveryIntervalMs);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const r = await this.recovery.run(this.config.intentGraceMs);
        const temp = await cleanupTemporaryUploads(this.storage, this.config.intentGraceMs);
        if (r.completed + r.abandoned + temp > 0) {
          this.logger.log(
            `upload recovery: ${r.completed} completed, ${r.abandoned} abandoned (${r.blobsDeleted} blobs deleted), ${temp} temporary uploads removed`,
          );
        }
      } catch (err) {
        this.logger.warn(`upload recovery failed, will retry: ${(err as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
