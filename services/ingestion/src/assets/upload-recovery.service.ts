import { DataSource } from 'typeorm';
import { INGESTION_LOG } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { PostgresEventStore } from '@trellis/event-store';
import type { ObjectStorage } from '@trellis/storage';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { lockSubject } from '../subjects/subject.store';
import { assetStream } from './asset.decider';
import { blobReferenced, UploadIntentRepository } from './upload-intent.repository';

export interface RecoveryReport {
  /** Intents whose event exists: only the intent was left over. */
  completed: number;
  /** Intents without an event: their blobs were deleted. */
  abandoned: number;
  blobsDeleted: number;
}

/**
 * Resolves uploads that died between announcing their blobs and appending their event. Runs
 * at start-up and periodically; an intent younger than the grace period may still be in flight
 * and is left alone. Each intent is resolved under its row lock, which also stops the upload
 * (if it is somehow still alive) from committing: its own delete of the intent then finds none.
 */
export class UploadRecovery {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly storage: ObjectStorage,
    private readonly intents: UploadIntentRepository,
    private readonly readModels: IngestionReadModels,
  ) {}

  async run(graceMs: number, now: Date = new Date()): Promise<RecoveryReport> {
    const report: RecoveryReport = { completed: 0, abandoned: 0, blobsDeleted: 0 };
    const stale = await this.intents.olderThan(this.dataSource, new Date(now.getTime() - graceMs));
    for (const intent of stale) {
      await withTransaction(this.dataSource, async (tx) => {
        // The subject lock first (the order an upload's commit takes them in): no upload of the
        // subject announces or commits a reference to a shared key between check and delete.
        await lockSubject(tx, intent.subjectId);
        if (!(await this.intents.lock(tx, intent.assetId))) return;
        // In this transaction: it holds a connection and must not wait for a second one.
        const events = await this.store.readStream(INGESTION_LOG, assetStream(intent.assetId), 1, tx);
        if (events.length > 0) {
          // The event committed; re-applying is idempotent and repairs a read model rebuilt meanwhile.
          await this.readModels.applyAll(events, tx);
          report.completed += 1;
        } else {
          for (const blob of intent.blobs) {
            if (await blobReferenced(tx, blob, intent.assetId)) continue;
            await this.storage.delete(blob.area, blob.key);
            report.blobsDeleted += 1;
          }
          report.abandoned += 1;
        }
        await this.intents.delete(tx, intent.assetId);
      });
    }
    return report;
  }
}
