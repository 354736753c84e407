import type { QueryRunner } from 'typeorm';
import { merkleRootOfLeafHashes } from '@trellis/contracts';

const INSERT_BATCH = 5000;

/** A published set's header as the trainer keeps it. */
export interface KeptAnnotationSet {
  setId: string;
  projectId: string;
  version: number;
  contentSha256: string;
  artifactKey: string;
  artifactSha256: string;
  publishedAt: string | Date;
}

/** One item of a set as the trainer keeps it: ids, the hashes a snapshot names it by, its leaf hash (itemLeafHash) and its answer. */
export interface KeptSetItem {
  itemId: string;
  subjectId: string;
  imageKey: string;
  imageSha256: string;
  textSha256: string;
  leafSha256: Buffer;
  answer: unknown;
}

/**
 * Keeps a set: its header, its items, its subjects and the RFC 6962 root over all its items in
 * item order (the order of the ids' text, PostgreSQL's uuid order, in which a freeze reads them).
 * A set never changes, so what a freeze would otherwise work out from every item is worked out
 * once here: the subjects it judges, and the root of any snapshot that keeps every item of this
 * one set. In the caller's transaction: all of it or none.
 */
export async function keepAnnotationSet(tx: Pick<QueryRunner, 'query'>, set: KeptAnnotationSet, items: readonly KeptSetItem[]): Promise<void> {
  for (const item of items) {
    if (item.leafSha256.length !== 32) throw new Error(`item ${item.itemId} of set ${set.setId} has no valid leaf hash`);
  }
  const ordered = [...items].sort((a, b) => (a.itemId.toLowerCase() < b.itemId.toLowerCase() ? -1 : 1));
  await tx.query(
    `INSERT INTO trainer_annotation_sets (set_id, project_id, version, content_sha256, artifact_key, artifact_sha256, item_count, published_at, items_merkle_root)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      set.setId,
      set.projectId,
      set.version,
      set.contentSha256,
      set.artifactKey,
      set.artifactSha256,
      items.length,
      set.publishedAt,
      merkleRootOfLeafHashes(ordered.map((i) => i.leafSha256)),
    ],
  );
  for (let i = 0; i < items.length; i += INSERT_BATCH) {
    const batch = items.slice(i, i + INSERT_BATCH);
    await tx.query(
      `INSERT INTO trainer_set_items (set_id, item_id, subject_id, image_key, image_sha256, text_sha256, leaf_sha256, answer)
       SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::jsonb[])`,
      [
        set.setId,
        batch.map((b) => b.itemId),
        batch.map((b) => b.subjectId),
        batch.map((b) => b.imageKey),
        batch.map((b) => b.imageSha256),
        batch.map((b) => b.textSha256),
        batch.map((b) => b.leafSha256),
        batch.map((b) => JSON.stringify(b.answer)),
      ],
    );
  }
  const subjects = [...new Set(items.map((i) => i.subjectId.toLowerCase()))];
  for (let i = 0; i < subjects.length; i += INSERT_BATCH) {
    await tx.query('INSERT INTO trainer_set_subjects (set_id, subject_id) SELECT $1, * FROM unnest($2::uuid[])', [
      set.setId,
      subjects.slice(i, i + INSERT_BATCH),
    ]);
  }
}

/** The root over all items of a set, kept with it (keepAnnotationSet); null for a set kept before roots were. */
export async function keptItemsRoot(db: Pick<QueryRunner, 'query'>, setId: string): Promise<{ itemCount: number; root: string | null } | null> {
  const rows: { item_count: number; items_merkle_root: string | null }[] = await db.query(
    'SELECT item_count, items_merkle_root FROM trainer_annotation_sets WHERE set_id = $1',
    [setId],
  );
  return rows.length === 0 ? null : { itemCount: rows[0].item_count, root: rows[0].items_merkle_root };
}
