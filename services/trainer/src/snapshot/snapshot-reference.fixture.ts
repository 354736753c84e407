import { canonicalJson, merkleRoot } from '@trellis/contracts';
import {
  ExcludedItem,
  exclusionReason,
  FreezeInput,
  heldOutSubjects,
  SetItemRow,
  SNAPSHOT_SCHEMA,
  SnapshotItem,
  SnapshotManifest,
  snapshotLeaf,
  Split,
} from './snapshot';

/**
 * Test oracle: a snapshot as its rules read, written plainly, the way the freeze once computed it
 * whole: the rows of subjects who do not permit the purpose left out with their reason, the rest
 * split by subject (held out by seed, or by evaluation set, whose subjects' training rows are
 * left out), both lists sorted by item then set, the root taken over each item's leaf anew, the
 * bytes by canonicalJson. The freeze's own code (planned per subject, placed and written as the
 * rows arrive) must give the same bytes and root.
 */
export function plainSnapshot(input: FreezeInput): { manifest: SnapshotManifest; bytes: string } {
  const excluded: ExcludedItem[] = [];
  const exclude = (r: SetItemRow, reason: ExcludedItem['reason']) => excluded.push({ setId: r.setId, itemId: r.itemId, subjectId: r.subjectId, reason });
  const usable = (rows: SetItemRow[]) =>
    rows.filter((r) => {
      const reason = exclusionReason(input.consent.get(r.subjectId), input.purpose, input.now);
      if (reason) exclude(r, reason);
      return reason === null;
    });
  const item = (r: SetItemRow, split: Split): SnapshotItem => ({
    setId: r.setId,
    itemId: r.itemId,
    subjectId: r.subjectId,
    imageKey: r.imageKey,
    imageSha256: r.imageSha256,
    textSha256: r.textSha256,
    split,
  });
  const train = usable(input.items);
  let items: SnapshotItem[];
  if (input.evaluation.kind === 'held-out') {
    const heldOut = heldOutSubjects(
      train.map((r) => r.subjectId),
      input.evaluation.fraction,
      input.seed,
    );
    items = train.map((r) => item(r, heldOut.has(r.subjectId) ? 'held-out' : 'train'));
  } else {
    const evaluation = usable(input.evaluation.items);
    const evaluated = new Set(evaluation.map((r) => r.subjectId));
    const kept = train.filter((r) => {
      if (!evaluated.has(r.subjectId)) return true;
      exclude(r, 'subject-in-evaluation-set');
      return false;
    });
    items = [...kept.map((r) => item(r, 'train')), ...evaluation.map((r) => item(r, 'held-out'))];
  }
  const byItem = (a: { itemId: string; setId: string }, b: { itemId: string; setId: string }) =>
    a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : a.setId < b.setId ? -1 : a.setId > b.setId ? 1 : 0;
  items.sort(byItem);
  excluded.sort(byItem);
  const manifest: SnapshotManifest = {
    schema: SNAPSHOT_SCHEMA,
    runId: input.runId,
    purpose: input.purpose,
    consentAsOf: input.now.toISOString(),
    seed: input.seed,
    annotationSets: input.annotationSets,
    evaluationSets: input.evaluation.kind === 'sets' ? input.evaluation.annotationSets : [],
    heldOutFraction: input.evaluation.kind === 'held-out' ? input.evaluation.fraction : null,
    merkleRoot: merkleRoot(items.map(snapshotLeaf)),
    items,
    excluded,
    replaces: null,
  };
  return { manifest, bytes: canonicalJson(manifest) };
}
