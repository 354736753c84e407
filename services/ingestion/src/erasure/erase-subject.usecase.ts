import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Actor, INGESTION_LOG, ingestionContracts, isUuid } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { OBJECT_STORAGE, type ObjectStorage, type StorageArea } from '@trellis/storage';
import { IngestionErrorCode, IngestionException, invalidRequest } from '../ingestion.exception';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { assertRegistered, subjectDecider, subjectStream } from '../subjects/subject.decider';
import { SubjectIdentityRepository } from '../subjects/subject-identity.repository';
import { loadSubject } from '../subjects/subject.store';

export const EraseSubjectRequest = z.object({ reason: z.enum(['gdpr-art17', 'consent-withdrawn']).default('gdpr-art17') }).strict();

export interface ErasureReport {
  subjectId: string;
  reason: 'gdpr-art17' | 'consent-withdrawn';
  assetCount: number;
  blobsDeleted: number;
}

/**
 * GDPR Art. 17 erasure (or a withdrawal that asks for deletion). Order matters:
 * 1. the subject is marked `erasing` (committed): from then on no upload for them can commit;
 * 2. every raw and curated blob under `subjects/<id>/` is deleted;
 * 3. one transaction appends SubjectErased, destroys the subject's data key and sealed identity
 *    (crypto-shredding) and marks the assets erased; then the identity tables are rewritten.
 * Events hold only pseudonymous ids and hashes, so nothing in the log changes and the hash
 * chain still verifies. A crash before 3 leaves the subject `erasing`; erasing again finishes.
 */
@Injectable()
export class EraseSubjectUseCase {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly identities: SubjectIdentityRepository,
    private readonly readModels: IngestionReadModels,
  ) {}

  async erase(subjectId: string, input: unknown, actor: Actor): Promise<ErasureReport> {
    if (!isUuid(subjectId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'subject id must be a UUID', ['subjectId']);
    const parsed = EraseSubjectRequest.safeParse(input ?? {});
    if (!parsed.success) throw invalidRequest('erasure', parsed.error.issues);
    const id = subjectId.toLowerCase();
    const { state } = await loadSubject(this.store, id);
    assertRegistered(state, id);

    await this.dataSource.query(`UPDATE ingestion_subjects SET status = 'erasing' WHERE subject_id = $1 AND status = 'active'`, [id]);
    const [{ n }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM ingestion_assets WHERE subject_id = $1 AND status = 'ingested'`, [id]);
    let blobsDeleted = await this.sweep(id);

    const reason = parsed.data.reason;
    const stream = { log: INGESTION_LOG, streamId: subjectStream(id), contracts: ingestionContracts };
    await withTransaction(this.dataSource, (tx) =>
      handleCommand(
        this.store,
        subjectDecider,
        stream,
        { type: 'EraseSubject', subjectId: id, reason, assetCount: n, blobsDeleted },
        {
          context: { actor },
          queryRunner: tx,
          afterAppend: async (appended, t) => {
            await this.identities.delete(t, id);
            await this.readModels.applyAll(appended, t);
            // Intents of uploads still in flight stay: if such an upload dies after writing blobs,
            // recovery deletes them (an erased asset references nothing).
          },
        },
      ),
    );
    // The data key is gone from every live row; rewrite the tables so no old copy stays on disk.
    await this.identities.purge();
    // An upload that wrote under the prefix after the sweep above (and died, or is refused at its
    // commit now that the subject is marked) must not leave a blob: sweep again.
    blobsDeleted += await this.sweep(id);
    return { subjectId: id, reason, assetCount: n, blobsDeleted };
  }

  /** Deletes every blob under the subject's prefix in raw and curated; how many. */
  private async sweep(id: string): Promise<number> {
    let deleted = 0;
    for (const area of ['raw', 'curated'] as StorageArea[]) {
      const keys: string[] = [];
      for await (const o of this.storage.list(area, `subjects/${id}/`)) keys.push(o.key);
      for (const key of keys) {
        await this.storage.delete(area, key);
        deleted += 1;
      }
    }
    return deleted;
  }
}
