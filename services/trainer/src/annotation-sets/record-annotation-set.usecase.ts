import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AnnotationSetPublished, readAnnotationSetArtifact } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { itemLeafHash } from '../snapshot/snapshot';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_STORAGE } from '../trainer.tokens';

const INSERT_BATCH = 5000;

/**
 * A published annotation set arrived: read its artifact once, check it against the hash the
 * event carries, and keep its items (ids, image and text hashes, the answer) so that freezing a
 * snapshot is a query, not a download. Runs in the consumer's transaction: all items or none.
 */
@Injectable()
export class RecordAnnotationSetUseCase {
  constructor(@Inject(TRAINER_STORAGE) private readonly storage: ObjectStorage) {}

  async record(tx: QueryRunner, data: AnnotationSetPublished['data'], publishedAt: string): Promise<void> {
    const known: unknown[] = await tx.query('SELECT 1 FROM trainer_annotation_sets WHERE set_id = $1', [data.setId]);
    if (known.length > 0) return;
    const read = readAnnotationSetArtifact(await this.storage.getBuffer('artifacts', data.artifact.key), data.artifact.sha256);
    if ('problem' in read) throw new TrainerException(TrainerErrorCode.ArtifactCorrupt, `annotation set ${data.setId}: ${read.problem}`);
    const items = read.items.map((item) => ({ ...item, leafHash: itemLeafHash({ ...item, setId: data.setId }) }));
    await tx.query(
      `INSERT INTO trainer_annotation_sets (set_id, project_id, version, content_sha256, artifact_key, artifact_sha256, item_count, published_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
      [data.setId, data.projectId, data.version, data.contentSha256, data.artifact.key, data.artifact.sha256, items.length, publishedAt],
    );
    for (let i = 0; i < items.length; i += INSERT_BATCH) {
      const batch = items.slice(i, i + INSERT_BATCH);
      await tx.query(
        `INSERT INTO trainer_set_items (set_id, item_id, subject_id, image_key, image_sha256, text_sha256, leaf_sha256, answer)
         SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::jsonb[])`,
        [
          data.setId,
          batch.map((b) => b.itemId),
          batch.map((b) => b.subjectId),
          batch.map((b) => b.image),
          batch.map((b) => b.imageSha256),
          batch.map((b) => b.textSha256),
          batch.map((b) => b.leafHash),
          batch.map((b) => JSON.stringify(b.answer)),
        ],
      );
    }
  }
}
