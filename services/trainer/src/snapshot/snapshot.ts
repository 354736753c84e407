import {
  AnnotationSetRef,
  canonicalJson,
  ConsentPurpose,
  permittedPurposes,
  SnapshotExclusionReason,
  SubjectConsentState,
  TrainingPurpose,
} from '@trellis/contracts';
import { leafHash, merkleRootOfLeafHashes } from '@trellis/contracts';
import { Prng } from '@trellis/synthetic';

export const SNAPSHOT_SCHEMA = 'trellis.training-snapshot.v1';

/** One item of a published annotation set, as the trainer keeps it. */
export interface SetItemRow {
  setId: string;
  itemId: string;
  subjectId: string;
  imageKey: string;
  imageSha256: string;
  /** SHA-256 of the canonical JSON of the answer; the answer itself stays in the set (the worker is given it). */
  textSha256: string;
  /**
   * The item's Merkle leaf hash (itemLeafHash) as 64 hex digits, taken once when the set arrived.
   * Hex, not a Buffer: a freeze writes the included ones straight into one buffer, and a Buffer
   * per row cost more to decode than all the inner hashes of the root.
   */
  leafSha256: string;
}

export type Split = 'train' | 'held-out';

export interface SnapshotItem {
  setId: string;
  itemId: string;
  subjectId: string;
  imageKey: string;
  imageSha256: string;
  textSha256: string;
  split: Split;
}

export interface ExcludedItem {
  setId: string;
  itemId: string;
  subjectId: string;
  reason: SnapshotExclusionReason;
}

export interface SnapshotManifest {
  schema: typeof SNAPSHOT_SCHEMA;
  runId: string;
  purpose: TrainingPurpose;
  consentAsOf: string;
  seed: number;
  annotationSets: AnnotationSetRef[];
  evaluationSets: AnnotationSetRef[];
  heldOutFraction: number | null;
  merkleRoot: string;
  items: SnapshotItem[];
  excluded: ExcludedItem[];
  replaces: { runId: string; snapshotSha256: string; removedItems: number; removedSubjects: number; removed: ExcludedItem[] } | null;
}

/** Kept here for the trainer's callers; defined once in @trellis/contracts for the trainer and the registry. */
export { supervisedPairs } from '@trellis/contracts';

export { answerSha256 } from '@trellis/contracts';

/**
 * Why a subject's items may not be used for `purpose` now, or null when they may. The order of
 * the checks gives the most useful reason: erased beats withdrawn beats denied beats expired.
 */
export function exclusionReason(state: SubjectConsentState | undefined, purpose: ConsentPurpose, now: Date): SnapshotExclusionReason | null {
  if (!state || state.status === 'none') return 'unknown-subject';
  if (state.status === 'erased') return 'subject-erased';
  if (permittedPurposes(state, now).includes(purpose)) return null;
  const consents = Object.values(state.consents).filter((c) => c.purposes.includes(purpose));
  if (consents.some((c) => c.decision === 'permit' && c.withdrawn.includes(purpose))) return 'consent-withdrawn';
  const inPeriod = (c: (typeof consents)[number]) => c.status === 'active' && (!c.start || new Date(c.start) <= now) && (!c.end || new Date(c.end) > now);
  if (consents.some((c) => c.decision === 'deny' && inPeriod(c))) return 'consent-denied';
  if (consents.some((c) => c.decision === 'permit' && c.status === 'active' && !inPeriod(c))) return 'consent-expired';
  return 'no-consent';
}

/**
 * The leaf an item contributes to a snapshot's Merkle root: which item of which set, whose, and
 * the hashes of its image and text (nothing personal). The canonical JSON of those five fields,
 * written out directly (keys in sorted order); the unit test holds it equal to canonicalJson. The
 * train/held-out split is in the manifest, whose hash the event carries, not in the leaf, so a
 * leaf is a function of the set item alone and is hashed once, when the set arrives.
 */
export function snapshotLeaf(item: Pick<SnapshotItem, 'setId' | 'itemId' | 'subjectId' | 'imageSha256' | 'textSha256'>): Buffer {
  const q = JSON.stringify;
  return Buffer.from(
    `{"imageSha256":${q(item.imageSha256)},"itemId":${q(item.itemId)},"setId":${q(item.setId)},"subjectId":${q(item.subjectId)},"textSha256":${q(item.textSha256)}}`,
    'utf8',
  );
}

/** The RFC 6962 leaf hash of a set item (kept beside it, so a freeze only hashes the inner nodes). */
export function itemLeafHash(item: Pick<SnapshotItem, 'setId' | 'itemId' | 'subjectId' | 'imageSha256' | 'textSha256'>): Buffer {
  return leafHash(snapshotLeaf(item));
}

/**
 * Subjects to hold out: a seeded shuffle of the sorted subject ids, the first `fraction` of them
 * (at least one and never all, when there are two or more). Depends only on the seed and the
 * subjects, so a resumed or repeated run splits the same way, and no subject is on both sides.
 */
export function heldOutSubjects(subjects: readonly string[], fraction: number, seed: number): Set<string> {
  const sorted = [...new Set(subjects)].sort();
  if (sorted.length < 2) return new Set();
  const prng = new Prng(seed ^ 0x5eed5);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(prng.next() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j], sorted[i]];
  }
  const n = Math.min(sorted.length - 1, Math.max(1, Math.round(fraction * sorted.length)));
  return new Set(sorted.slice(0, n));
}

const byItem = (a: { itemId: string; setId: string }, b: { itemId: string; setId: string }) =>
  a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : a.setId < b.setId ? -1 : a.setId > b.setId ? 1 : 0;

export interface FreezeInput {
  runId: string;
  purpose: TrainingPurpose;
  now: Date;
  seed: number;
  annotationSets: AnnotationSetRef[];
  /** Items of the training sets. */
  items: SetItemRow[];
  evaluation: { kind: 'held-out'; fraction: number } | { kind: 'sets'; annotationSets: AnnotationSetRef[]; items: SetItemRow[] };
  consent: Map<string, SubjectConsentState>;
}

/** A manifest whose Merkle root is still to be taken (see selectSnapshot). */
export type UnrootedManifest = Omit<SnapshotManifest, 'merkleRoot'>;

/**
 * What a snapshot holds, before its root: the manifest without the root, and the leaf hashes of
 * its items in manifest order, 32 bytes each, in one buffer. Split from freezeSnapshot so the
 * caller can take the root off its own thread while it writes the manifest (merkle-root.ts).
 */
export interface SnapshotSelection {
  manifest: UnrootedManifest;
  leaves: Buffer;
}

/**
 * The consent-safe snapshot of a run: every item of the requested sets whose subject permits
 * the purpose at `now`, split into train and held-out by subject, the rest listed with their
 * reason, and a Merkle root over the included items. Pure: equal inputs give an equal manifest.
 */
export function freezeSnapshot(input: FreezeInput): SnapshotManifest {
  const { manifest, leaves } = selectSnapshot(input);
  return withMerkleRoot(manifest, merkleRootOfLeafHashes(splitLeaves(leaves)));
}

/** The manifest with its root, keys as freezeSnapshot always gave them. */
export function withMerkleRoot(m: UnrootedManifest, merkleRoot: string): SnapshotManifest {
  return { ...m, merkleRoot };
}

/** A buffer of leaf hashes as one (shared, not copied) Buffer per leaf. */
export function splitLeaves(leaves: Buffer): Buffer[] {
  return Array.from({ length: leaves.length / 32 }, (_, i) => leaves.subarray(i * 32, i * 32 + 32));
}

/** freezeSnapshot less the root: the same rules, and the leaves the root is to be taken over. */
export function selectSnapshot(input: FreezeInput): SnapshotSelection {
  const excluded: ExcludedItem[] = [];
  // Consent is judged once per subject: a subject has many items.
  const reasons = new Map<string, SnapshotExclusionReason | null>();
  const reasonOf = (subjectId: string) => {
    if (!reasons.has(subjectId)) reasons.set(subjectId, exclusionReason(input.consent.get(subjectId), input.purpose, input.now));
    return reasons.get(subjectId)!;
  };
  const usable = (rows: SetItemRow[]) =>
    rows.filter((r) => {
      const reason = reasonOf(r.subjectId);
      if (reason) excluded.push(excludedItem(r, reason));
      return reason === null;
    });
  const train = usable(input.items);
  // Each included item beside its leaf hash (taken when its set arrived), sorted together.
  let entries: { item: SnapshotItem; leaf: string }[];
  const entry = (r: SetItemRow, split: Split) => ({ item: snapshotItem(r, split), leaf: r.leafSha256 });
  if (input.evaluation.kind === 'held-out') {
    const heldOut = heldOutSubjects(
      train.map((r) => r.subjectId),
      input.evaluation.fraction,
      input.seed,
    );
    entries = train.map((r) => entry(r, heldOut.has(r.subjectId) ? 'held-out' : 'train'));
  } else {
    const evaluation = usable(input.evaluation.items);
    const evalSubjects = new Set(evaluation.map((r) => r.subjectId));
    const kept = train.filter((r) => {
      if (!evalSubjects.has(r.subjectId)) return true;
      excluded.push(excludedItem(r, 'subject-in-evaluation-set'));
      return false;
    });
    entries = [...kept.map((r) => entry(r, 'train')), ...evaluation.map((r) => entry(r, 'held-out'))];
  }
  // Rows arrive sorted by item within each set, so this sort mostly checks runs.
  entries.sort((a, b) => byItem(a.item, b.item));
  excluded.sort(byItem);
  const leaves = Buffer.alloc(entries.length * 32);
  for (let i = 0; i < entries.length; i++) {
    // A short or non-hex value would leave zeros in the buffer and a wrong root, silently.
    if (entries[i].leaf.length !== 64 || leaves.write(entries[i].leaf, i * 32, 32, 'hex') !== 32) {
      throw new Error(`item ${entries[i].item.itemId} of set ${entries[i].item.setId} has no valid leaf hash`);
    }
  }
  return {
    manifest: {
      schema: SNAPSHOT_SCHEMA,
      runId: input.runId,
      purpose: input.purpose,
      consentAsOf: input.now.toISOString(),
      seed: input.seed,
      annotationSets: input.annotationSets,
      evaluationSets: input.evaluation.kind === 'sets' ? input.evaluation.annotationSets : [],
      heldOutFraction: input.evaluation.kind === 'held-out' ? input.evaluation.fraction : null,
      items: entries.map((e) => e.item),
      excluded,
      replaces: null,
    },
    leaves,
  };
}

/**
 * The snapshot of a retrain: the replaced run's items, less those whose subject no longer
 * permits the purpose now (withdrawn, erased). Each kept item keeps its split, so the held-out
 * set stays comparable; the difference is recorded item by item.
 */
export function freezeRetrainSnapshot(input: {
  runId: string;
  now: Date;
  replaced: SnapshotManifest;
  replacedSha256: string;
  consent: Map<string, SubjectConsentState>;
}): SnapshotManifest {
  const old = input.replaced;
  const removed: ExcludedItem[] = [];
  const items = old.items.filter((i) => {
    const reason = exclusionReason(input.consent.get(i.subjectId), old.purpose, input.now);
    if (reason) removed.push(excludedItem(i, reason));
    return reason === null;
  });
  const keptSubjects = new Set(items.map((i) => i.subjectId));
  const removedSubjects = new Set(removed.map((r) => r.subjectId).filter((s) => !keptSubjects.has(s)));
  return {
    ...old,
    runId: input.runId,
    consentAsOf: input.now.toISOString(),
    merkleRoot: merkleRootOfLeafHashes(items.map(itemLeafHash)),
    items,
    excluded: [...old.excluded, ...removed].sort(byItem),
    replaces: { runId: old.runId, snapshotSha256: input.replacedSha256, removedItems: removed.length, removedSubjects: removedSubjects.size, removed },
  };
}

/** Keys in sorted order, so that the manifest serializes canonically with JSON.stringify (manifestBytes). */
function snapshotItem(r: SetItemRow, split: Split): SnapshotItem {
  return { imageKey: r.imageKey, imageSha256: r.imageSha256, itemId: r.itemId, setId: r.setId, split, subjectId: r.subjectId, textSha256: r.textSha256 };
}

const excludedItem = (r: { setId: string; itemId: string; subjectId: string }, reason: SnapshotExclusionReason): ExcludedItem => ({
  itemId: r.itemId,
  reason,
  setId: r.setId,
  subjectId: r.subjectId,
});

/** The counts TrainingSnapshotFrozen carries; one pass, as a manifest may hold 100,000 items. */
export function snapshotCounts(m: SnapshotManifest) {
  const trainSubjects = new Set<string>();
  const heldOutSubjects = new Set<string>();
  let trainItems = 0;
  for (const i of m.items) {
    if (i.split === 'train') {
      trainItems++;
      trainSubjects.add(i.subjectId);
    } else heldOutSubjects.add(i.subjectId);
  }
  const reasons = new Map<SnapshotExclusionReason, number>();
  for (const e of m.excluded) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
  return {
    merkleRoot: m.merkleRoot,
    includedItems: m.items.length,
    excludedItems: m.excluded.length,
    includedSubjects: new Set([...trainSubjects, ...heldOutSubjects]).size,
    excluded: [...reasons].sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, count]) => ({ reason, count })),
    trainItems,
    heldOutItems: m.items.length - trainItems,
    trainSubjects: trainSubjects.size,
    heldOutSubjects: heldOutSubjects.size,
    consentAsOf: m.consentAsOf,
  };
}

/** Stands in manifestPieces for the root, which a caller may still be computing. */
const MERKLE_ROOT = Symbol('merkleRoot');

/** Items per piece of the manifest: big enough for JSON.stringify's speed, small enough not to hold the whole in one string. */
const ITEMS_PER_PIECE = 2000;

/**
 * The manifest as stored, in pieces: canonical JSON, so its hash is a function of its content.
 * Items and exclusions, the bulk, are built with their keys in sorted order, so JSON.stringify
 * writes them canonically (five times faster than canonicalJson over 100,000 items), a slice
 * at a time; the unit test holds the whole equal to canonicalJson. The root's place is marked,
 * not written, so the bytes before it can be stored while the root is taken.
 */
function* manifestPieces(m: UnrootedManifest): Generator<string | typeof MERKLE_ROOT> {
  const fields = { ...m, merkleRoot: MERKLE_ROOT } as Record<string, unknown>;
  let first = true;
  for (const k of Object.keys(fields).sort()) {
    yield `${first ? '{' : ','}${JSON.stringify(k)}:`;
    first = false;
    if (k === 'merkleRoot') yield MERKLE_ROOT;
    else if (k === 'items' || k === 'excluded') {
      const list = fields[k] as unknown[];
      yield '[';
      for (let i = 0; i < list.length; i += ITEMS_PER_PIECE) {
        const json = JSON.stringify(list.slice(i, i + ITEMS_PER_PIECE));
        yield `${i > 0 ? ',' : ''}${json.slice(1, -1)}`;
      }
      yield ']';
    } else yield canonicalJson(fields[k]);
  }
  yield '}';
}

/** Bytes of the manifest as stored (see manifestPieces). */
export function manifestBytes(m: SnapshotManifest): Buffer {
  const pieces = [...manifestPieces(m)].map((p) => (p === MERKLE_ROOT ? JSON.stringify(m.merkleRoot) : p));
  return Buffer.from(pieces.join(''), 'utf8');
}

/**
 * The same bytes as manifestBytes, as a stream that waits for the root only where the root goes
 * (after the items), so storing the manifest and taking the root overlap. A rejected root fails
 * the stream, and the storage keeps nothing of it.
 */
export async function* manifestStream(m: UnrootedManifest, merkleRoot: Promise<string>): AsyncGenerator<Buffer> {
  for (const p of manifestPieces(m)) yield Buffer.from(p === MERKLE_ROOT ? JSON.stringify(await merkleRoot) : p, 'utf8');
}
