import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { AnnotationSetPublished, readAnnotationSetArtifact } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { itemLeafHash } from '../snapshot/snapshot';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_STORAGE } from '../trainer.tokens';
import { keepAnnotationSet } from './annotation-set.repository';

/**
 * A published annotation set arrived: read its artifact once, check it against the hash the
 * event carries, and keep its items (ids, image and text hashes, the answer), its subjects and
 * the root over its items (keepAnnotationSet) so that freezing a snapshot is a query, not a
 * download. Runs in the consumer's transaction: all items or none.
 */
@Injectable()
export class RecordAnnotationSetUseCase {
  constructor(@Inject(TRAINER_STORAGE) private readonly storage: ObjectStorage) {}

  async record(tx: QueryRunner, data: AnnotationSetPublished['data'], publishedAt: string): Promise<void> {
    const known: unknown[] = await tx.query('SELECT 1 FROM trainer_annotation_sets WHERE set_id = $1', [data.setId]);
    if (known.length > 0) return;
    const read = readAnnotationSetArtifact(await this.storage.getBuffer('artifacts', data.artifact.key), data.artifact.sha256);
    if ('problem' in read) throw new TrainerException(TrainerErrorCode.ArtifactCorrupt, `annotation set ${data.setId}: ${read.problem}`);
    await keepAnnotationSet(
      tx,
      {
        setId: data.setId,
        projectId: data.projectId,
        version: data.version,
        contentSha256: data.contentSha256,
        artifactKey: data.artifact.key,
        artifactSha256: data.artifact.sha256,
        publishedAt,
      },
      read.items.map((item) => ({
        itemId: item.itemId,
        subjectId: item.subjectId,
        imageKey: item.image,
        imageSha256: item.imageSha256,
        textSha256: item.textSha256,
        leafSha256: itemLeafHash({ ...item, setId: data.setId }),
        answer: item.answer,
      })),
    );
  }
}
