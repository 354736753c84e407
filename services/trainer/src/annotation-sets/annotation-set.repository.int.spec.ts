import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { DataSource } from 'typeorm';
import { merkleRootOfLeafHashes } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { openTestDataSource } from '@trellis/testing';
import { keepAnnotationSet, keptItemsRoot, KeptSetItem } from './annotation-set.repository';

describe('keepAnnotationSet', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await openTestDataSource();
  });

  afterAll(async () => {
    await ds.destroy();
  });

  const header = () => ({
    setId: uuidv7(),
    projectId: uuidv7(),
    version: 1,
    contentSha256: 'c'.repeat(64),
    artifactKey: 'test',
    artifactSha256: 'c'.repeat(64),
    publishedAt: new Date(),
  });
  const item = (subjectId: string, n: number): KeptSetItem => ({
    itemId: uuidv7(),
    subjectId,
    imageKey: `curated/${n}`,
    imageSha256: 'a'.repeat(64),
    textSha256: 'b'.repeat(64),
    leafSha256: createHash('sha256').update(`leaf ${n}`).digest(),
    answer: { kind: 'caption', caption: `caption ${n}` },
  });

  it('keeps the items, each subject once and the root over the leaves in item order, whatever order they came in', async () => {
    const set = header();
    const subjects = [uuidv7(), uuidv7(), uuidv7()];
    const items = Array.from({ length: 25 }, (_, n) => item(subjects[n % 3], n));
    await withTransaction(ds, (tx) => keepAnnotationSet(tx, set, [...items].reverse()));

    const kept = await keptItemsRoot(ds.manager, set.setId);
    // uuidv7 ids made one after another are in item order already.
    expect(kept).toEqual({ itemCount: 25, root: merkleRootOfLeafHashes(items.map((i) => i.leafSha256)) });
    expect(kept!.root).not.toBe(merkleRootOfLeafHashes([...items].reverse().map((i) => i.leafSha256)));
    const rows: { subject_id: string }[] = await ds.query('SELECT subject_id FROM trainer_set_subjects WHERE set_id = $1 ORDER BY subject_id', [set.setId]);
    expect(rows.map((r) => r.subject_id)).toEqual([...subjects].sort());
    const [{ n }]: { n: number }[] = await ds.query('SELECT count(*)::int AS n FROM trainer_set_items WHERE set_id = $1', [set.setId]);
    expect(n).toBe(25);
  });

  it('refuses a leaf hash that is not 32 bytes, keeping nothing of the set', async () => {
    const set = header();
    const items = [item(uuidv7(), 1), { ...item(uuidv7(), 2), leafSha256: Buffer.alloc(31) }];
    await expect(withTransaction(ds, (tx) => keepAnnotationSet(tx, set, items))).rejects.toThrow(
      `item ${items[1].itemId} of set ${set.setId} has no valid leaf hash`,
    );
    expect(await keptItemsRoot(ds.manager, set.setId)).toBeNull();
  });
});
