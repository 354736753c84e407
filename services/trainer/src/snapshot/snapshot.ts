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
 * its items in manifest order, 32 bytes each, in one buffer (selectSnapshot). A freeze does not
 * keep an object per item: it writes the manifest as it places the items (SnapshotWriter).
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

/** What a snapshot does with the items of one subject: which side they go to, or why they are left out. */
export type SubjectDecision = Split | SnapshotExclusionReason;

/** planSnapshot's decisions, by subject, for the training items and for the evaluation items. */
export interface SnapshotPlan {
  training: Map<string, SubjectDecision>;
  evaluation: Map<string, SubjectDecision>;
}

/**
 * The snapshot's rules, taken once per subject before any item is placed: consent for the
 * purpose at `now` (the reason that matters most when not), the held-out subjects drawn from
 * the seed among those who permit it, and, with evaluation sets, the training items of an
 * evaluation subject left out. `trainingSubjects` and `evaluationSubjects` are the subjects of
 * the training and the evaluation items (repeats do not matter); `consentOf` is asked once per
 * subject (undefined for one the trainer has not heard of).
 */
export function planSnapshot(input: {
  purpose: TrainingPurpose;
  now: Date;
  seed: number;
  evaluation: { kind: 'held-out'; fraction: number } | { kind: 'sets' };
  consentOf: (subjectId: string) => SubjectConsentState | undefined;
  trainingSubjects: Iterable<string>;
  evaluationSubjects: Iterable<string>;
}): SnapshotPlan {
  const reasons = new Map<string, SnapshotExclusionReason | null>();
  const reasonOf = (subjectId: string) => {
    let reason = reasons.get(subjectId);
    if (reason === undefined) {
      reason = exclusionReason(input.consentOf(subjectId), input.purpose, input.now);
      reasons.set(subjectId, reason);
    }
    return reason;
  };
  const permitting = (subjects: Iterable<string>) => {
    const out = new Set<string>();
    for (const s of subjects) if (reasonOf(s) === null) out.add(s);
    return out;
  };
  const trainingSubjects = new Set(input.trainingSubjects);
  const evaluationSubjects = new Set(input.evaluationSubjects);
  const training = new Map<string, SubjectDecision>();
  const evaluation = new Map<string, SubjectDecision>();
  if (input.evaluation.kind === 'held-out') {
    const heldOut = heldOutSubjects([...permitting(trainingSubjects)], input.evaluation.fraction, input.seed);
    for (const s of trainingSubjects) training.set(s, reasonOf(s) ?? (heldOut.has(s) ? 'held-out' : 'train'));
  } else {
    const evaluated = permitting(evaluationSubjects);
    for (const s of evaluationSubjects) evaluation.set(s, reasonOf(s) ?? 'held-out');
    for (const s of trainingSubjects) training.set(s, reasonOf(s) ?? (evaluated.has(s) ? 'subject-in-evaluation-set' : 'train'));
  }
  return { training, evaluation };
}

export const isSplit = (d: SubjectDecision): d is Split => d === 'train' || d === 'held-out';

function sortedByItem(list: readonly { itemId: string; setId: string }[]): boolean {
  for (let i = 1; i < list.length; i++) if (byItem(list[i - 1], list[i]) > 0) return false;
  return true;
}

const evalItemsOf = (input: FreezeInput) => (input.evaluation.kind === 'sets' ? input.evaluation.items : []);

/** placeItems for a pure function's input, planned from its rows and consent. */
function placeInput(input: FreezeInput, to: Placement): void {
  placeItems(input.items, evalItemsOf(input), planFor(input), to);
}

/** planSnapshot for the subjects of the input's rows. */
function planFor(input: FreezeInput): SnapshotPlan {
  const subjects = (rows: readonly SetItemRow[]) => rows.map((r) => r.subjectId);
  return planSnapshot({
    purpose: input.purpose,
    now: input.now,
    seed: input.seed,
    evaluation: input.evaluation.kind === 'held-out' ? input.evaluation : { kind: 'sets' },
    consentOf: (subjectId) => input.consent.get(subjectId),
    trainingSubjects: subjects(input.items),
    evaluationSubjects: subjects(evalItemsOf(input)),
  });
}

/** What each row is handed to, in manifest order. */
export interface Placement {
  include(row: SetItemRow, split: Split): void;
  exclude(row: SetItemRow, reason: SnapshotExclusionReason): void;
}

/** Hands a row on by its subject's decision (planSnapshot's training or evaluation decisions). */
export function placeRow(row: SetItemRow, decisions: Map<string, SubjectDecision>, to: Placement): void {
  const d = decisions.get(row.subjectId);
  if (d === undefined) throw new Error(`item ${row.itemId} of set ${row.setId} has a subject the snapshot was not planned for`);
  if (isSplit(d)) to.include(row, d);
  else to.exclude(row, d);
}

/**
 * A set item as its columns come from the database, in this order: item id, subject id, image
 * key, image hash, text hash, leaf hash (hex).
 */
export type SetItemValues = [itemId: string, subjectId: string, imageKey: string, imageSha256: string, textSha256: string, leafSha256: string];

/**
 * Places every row of the training and the evaluation sets by its subject's decision
 * (planSnapshot), in manifest order: by item, then set, which orders the included rows and the
 * excluded ones alike. Rows read a set at a time in item order (one set, or sets that do not
 * interleave) are in that order already and are not sorted; others are, stably, so that a set
 * listed twice keeps its rows' order.
 */
export function placeItems(items: readonly SetItemRow[], evalItems: readonly SetItemRow[], plan: SnapshotPlan, to: Placement): void {
  const rows = evalItems.length === 0 ? items : [...items, ...evalItems];
  const training = items.length;
  const place = (i: number) => placeRow(rows[i], i < training ? plan.training : plan.evaluation, to);
  if (sortedByItem(rows)) {
    for (let i = 0; i < rows.length; i++) place(i);
  } else {
    const order = rows.map((_, i) => i).sort((a, b) => byItem(rows[a], rows[b]) || a - b);
    for (const i of order) place(i);
  }
}

/** The included items' leaf hashes, in manifest order, written from hex into one buffer. */
class LeafBuffer {
  private bytes: Buffer;
  private count = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(1, capacity) * 32);
  }

  add(leafSha256: string, setId: string, itemId: string): void {
    this.makeRoom();
    // A short or non-hex value would leave garbage in the buffer and a wrong root, silently.
    if (leafSha256.length !== 64 || this.bytes.write(leafSha256, this.count * 32, 32, 'hex') !== 32) {
      throw new Error(`item ${itemId} of set ${setId} has no valid leaf hash`);
    }
    this.count++;
  }

  /** A leaf hash as its 32 bytes, at `at` of `from` (a binary row). */
  addBytes(from: Buffer, at: number): void {
    this.makeRoom();
    from.copy(this.bytes, this.count * 32, at, at + 32);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  private makeRoom(): void {
    if ((this.count + 1) * 32 > this.bytes.length) {
      const grown = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(grown, 0, 0, this.count * 32);
      this.bytes = grown;
    }
  }

  /** Leaves `from` (a leaf index) onwards, or all of them: a view, not a copy. */
  view(from = 0): Buffer {
    return this.bytes.subarray(from * 32, this.count * 32);
  }
}

const rowCount = (input: FreezeInput) => input.items.length + evalItemsOf(input).length;

/** What a manifest says before its items: who froze it, when, for what, from which sets. */
export interface SnapshotHead {
  runId: string;
  purpose: TrainingPurpose;
  now: Date;
  seed: number;
  annotationSets: AnnotationSetRef[];
  evaluationSets: AnnotationSetRef[];
  heldOutFraction: number | null;
}

const headOf = (input: FreezeInput): SnapshotHead => ({
  runId: input.runId,
  purpose: input.purpose,
  now: input.now,
  seed: input.seed,
  annotationSets: input.annotationSets,
  evaluationSets: input.evaluation.kind === 'sets' ? input.evaluation.annotationSets : [],
  heldOutFraction: input.evaluation.kind === 'held-out' ? input.evaluation.fraction : null,
});

/** Every key of the manifest but the root, with the items and exclusions given. */
function unrootedManifest(head: SnapshotHead, items: SnapshotItem[], excluded: ExcludedItem[]): UnrootedManifest {
  return {
    schema: SNAPSHOT_SCHEMA,
    runId: head.runId,
    purpose: head.purpose,
    consentAsOf: head.now.toISOString(),
    seed: head.seed,
    annotationSets: head.annotationSets,
    evaluationSets: head.evaluationSets,
    heldOutFraction: head.heldOutFraction,
    items,
    excluded,
    replaces: null,
  };
}

/** freezeSnapshot less the root: the same rules, and the leaves the root is to be taken over. */
export function selectSnapshot(input: FreezeInput): SnapshotSelection {
  const items: SnapshotItem[] = [];
  const excluded: ExcludedItem[] = [];
  const leaves = new LeafBuffer(rowCount(input));
  placeInput(input, {
    include(r, split) {
      leaves.add(r.leafSha256, r.setId, r.itemId);
      items.push(snapshotItem(r, split));
    },
    exclude: (r, reason) => excluded.push(excludedItem(r, reason)),
  });
  return { manifest: unrootedManifest(headOf(input), items, excluded), leaves: leaves.view() };
}

/** The counts TrainingSnapshotFrozen carries, less the root (snapshotCounts). */
export type SnapshotCounts = Omit<ReturnType<typeof snapshotCounts>, 'merkleRoot'>;

/**
 * A new snapshot as a freeze stores it: selectSnapshot's manifest with its items already written
 * as the stored bytes (pieces of the `items` array, commas between), its counts and its leaves.
 * `trainItems` lists the training items only when asked (a run counted in epochs needs them).
 */
export interface AssembledSnapshot {
  manifest: UnrootedManifest;
  itemBytes: Buffer[];
  leaves: Buffer;
  counts: SnapshotCounts;
  trainItems: { setId: string; itemId: string }[] | null;
}

/**
 * Writes a new snapshot as its rows are placed, in manifest order (include, exclude): each
 * included item is written at once as the bytes it is stored as, into pieces of PIECE_BYTES, and
 * every ITEMS_PER_PIECE items its leaves are handed on (`onLeaves`, e.g. to the root's worker
 * thread). No object is made per item (but the training items' ids, when asked for): at
 * 100,000 items, objects (and the collector moving them), JSON.stringify over them and the
 * strings it builds cost more than the rest of the writing.
 */
export class SnapshotWriter implements Placement {
  private readonly excluded: ExcludedItem[] = [];
  private readonly leaves: LeafBuffer;
  private readonly itemBytes: Buffer[] = [];
  private readonly trainItems: { setId: string; itemId: string }[] | null;
  private readonly trainSubjects = new Set<string>();
  private readonly heldOutSubjects = new Set<string>();
  /** The piece being written, and how many of its bytes are; none until the first item. */
  private piece = Buffer.alloc(0);
  private written = 0;
  private handedOn = 0;
  private trained = 0;
  /** The last set's id and its JSON, as items come a set at a time. */
  private setId = '';
  private setIdJson = '';
  /** What comes between an item's id and its subject's, for the last set, by split (includeBinary). */
  private setParts: Record<Split, Buffer> = { train: Buffer.alloc(0), 'held-out': Buffer.alloc(0) };
  private lastSubjectId = '';

  constructor(
    private readonly head: SnapshotHead,
    private readonly options: { listTrainItems: boolean; expectedItems: number; onLeaves?: (leaves: Buffer) => void },
  ) {
    this.leaves = new LeafBuffer(options.expectedItems);
    this.trainItems = options.listTrainItems ? [] : null;
  }

  include(r: SetItemRow, split: Split): void {
    this.includeValues(r.setId, [r.itemId, r.subjectId, r.imageKey, r.imageSha256, r.textSha256, r.leafSha256], split);
  }

  /**
   * The next included item, as its set and values, written as JSON.stringify writes
   * snapshotItem's object (keys in sorted order; the unit tests hold the two equal). Values that
   * are PLAIN, as ids and hashes are, go between quotes as they are, and as Latin-1, which is
   * their UTF-8; any other is written through JSON.stringify. JSON.stringify over every value,
   * or over objects, costs three times as much at 100,000 items.
   */
  includeValues(setId: string, v: SetItemValues, split: Split): void {
    const itemId = v[0];
    const subjectId = v[1];
    this.leaves.add(v[5], setId, itemId);
    if (setId !== this.setId) {
      this.setId = setId;
      this.setIdJson = JSON.stringify(setId);
    }
    const comma = this.leaves.size > 1 ? ',' : '';
    const plain = PLAIN.test(itemId) && PLAIN.test(subjectId) && PLAIN.test(v[2]) && PLAIN.test(v[3]) && PLAIN.test(v[4]);
    const q = plain ? quoted : JSON.stringify;
    const json = `${comma}{"imageKey":${q(v[2])},"imageSha256":${q(v[3])},"itemId":${q(itemId)},"setId":${this.setIdJson},"split":"${split}","subjectId":${q(subjectId)},"textSha256":${q(v[4])}}`;
    // UTF-8 takes at most 3 bytes per UTF-16 unit, Latin-1 one.
    if (this.written + 3 * json.length > this.piece.length) {
      this.closePiece();
      this.piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, 3 * json.length));
    }
    this.written += this.piece.write(json, this.written, plain ? 'latin1' : 'utf8');
    if (this.leaves.size - this.handedOn === ITEMS_PER_PIECE) this.handOnLeaves();
    if (split === 'train') {
      this.trained++;
      this.trainSubjects.add(subjectId);
      this.trainItems?.push({ setId, itemId });
    } else this.heldOutSubjects.add(subjectId);
  }

  /**
   * includeValues for an item read as a row of PostgreSQL's binary COPY (`row`, its values where
   * `at` says): the same bytes, written from the row's bytes without a string for any of them
   * (the ids as lowercase hex, as PostgreSQL writes a uuid; PLAIN values copied as they are; any
   * other decoded and written through JSON.stringify, as includeValues does), and the leaf copied
   * as its 32 bytes. `subjectId` is the subject's id as text, which the caller made to find its
   * decision. Strings made per row, and the collector moving them, were most of what a freeze
   * spent on its own thread.
   */
  includeBinary(setId: string, row: Buffer, at: BinaryItemFields, subjectId: string, split: Split): void {
    this.leaves.addBytes(row, at.leafSha256);
    if (setId !== this.setId) {
      this.setId = setId;
      this.setIdJson = JSON.stringify(setId);
      this.setParts = {
        train: Buffer.from(`","setId":${this.setIdJson},"split":"train","subjectId":"`, 'utf8'),
        'held-out': Buffer.from(`","setId":${this.setIdJson},"split":"held-out","subjectId":"`, 'utf8'),
      };
    }
    const setPart = this.setParts[split];
    // JSON.stringify writes at most 6 bytes for a byte of UTF-8 (a control byte as \u00XX).
    const bound = 128 + setPart.length + 6 * (at.imageKeyLength + at.imageSha256Length + at.textSha256Length);
    if (this.written + bound > this.piece.length) {
      this.closePiece();
      this.piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, bound));
    }
    const p = this.piece;
    let o = this.written;
    if (this.leaves.size > 1) p[o++] = 0x2c;
    o = putBytes(p, o, IMAGE_KEY_PART);
    o = putJsonString(p, o, row, at.imageKey, at.imageKeyLength);
    o = putBytes(p, o, IMAGE_SHA256_PART);
    o = putJsonString(p, o, row, at.imageSha256, at.imageSha256Length);
    o = putBytes(p, o, ITEM_ID_PART);
    const itemIdAt = o;
    o = putUuid(p, o, row, at.itemId);
    o = putBytes(p, o, setPart);
    o = putUuid(p, o, row, at.subjectId);
    o = putBytes(p, o, TEXT_SHA256_PART);
    o = putJsonString(p, o, row, at.textSha256, at.textSha256Length);
    p[o++] = 0x7d;
    this.written = o;
    if (this.leaves.size - this.handedOn === ITEMS_PER_PIECE) this.handOnLeaves();
    // Rows of one subject often come together; a Set add per row is a hash of its id per row.
    const fresh = subjectId !== this.lastSubjectId;
    this.lastSubjectId = subjectId;
    if (split === 'train') {
      this.trained++;
      if (fresh) this.trainSubjects.add(subjectId);
      this.trainItems?.push({ setId, itemId: p.toString('latin1', itemIdAt, itemIdAt + 36) });
    } else if (fresh) this.heldOutSubjects.add(subjectId);
  }

  exclude(r: { setId: string; itemId: string; subjectId: string }, reason: SnapshotExclusionReason): void {
    this.excluded.push(excludedItem(r, reason));
  }

  finish(): AssembledSnapshot {
    this.closePiece();
    this.handOnLeaves();
    const included = this.leaves.size;
    const reasons = new Map<SnapshotExclusionReason, number>();
    for (const e of this.excluded) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    return {
      manifest: unrootedManifest(this.head, [], this.excluded),
      itemBytes: this.itemBytes,
      leaves: this.leaves.view(),
      counts: {
        includedItems: included,
        excludedItems: this.excluded.length,
        includedSubjects: new Set([...this.trainSubjects, ...this.heldOutSubjects]).size,
        excluded: [...reasons].sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, count]) => ({ reason, count })),
        trainItems: this.trained,
        heldOutItems: included - this.trained,
        trainSubjects: this.trainSubjects.size,
        heldOutSubjects: this.heldOutSubjects.size,
        consentAsOf: this.head.now.toISOString(),
      },
      trainItems: this.trainItems,
    };
  }

  /** Keeps the bytes written; the next item starts a new piece. */
  private closePiece(): void {
    if (this.written > 0) this.itemBytes.push(this.piece.subarray(0, this.written));
    this.piece = Buffer.alloc(0);
    this.written = 0;
  }

  private handOnLeaves(): void {
    if (this.leaves.size > this.handedOn) this.options.onLeaves?.(this.leaves.view(this.handedOn));
    this.handedOn = this.leaves.size;
  }
}

/** selectSnapshot, written as the manifest's bytes as it goes (SnapshotWriter). */
export function assembleSnapshot(input: FreezeInput, options: { listTrainItems: boolean; onLeaves?: (leaves: Buffer) => void }): AssembledSnapshot {
  const writer = new SnapshotWriter(headOf(input), { ...options, expectedItems: rowCount(input) });
  placeInput(input, writer);
  return writer.finish();
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

/** Items per piece of the manifest: big enough for JSON.stringify's speed, small enough not to hold the whole in one string. */
const ITEMS_PER_PIECE = 2000;

/** Bytes per piece of the items a freeze writes (SnapshotWriter): some 2,000 items. */
const PIECE_BYTES = 1 << 20;

/** Printable ASCII but `"` and `\`: what JSON.stringify writes as it is, and UTF-8 and Latin-1 write alike. */
const PLAIN = /^[ !#-[\]-~]*$/;

/** A PLAIN string as JSON. */
const quoted = (plain: string) => `"${plain}"`;

/**
 * Where an item's values lie in a row of PostgreSQL's binary COPY (set-items-copy.ts): the ids
 * as their 16 bytes, the leaf hash as its 32, the hashes and the key as their UTF-8 bytes.
 */
export interface BinaryItemFields {
  itemId: number;
  subjectId: number;
  imageSha256: number;
  imageSha256Length: number;
  textSha256: number;
  textSha256Length: number;
  leafSha256: number;
  imageKey: number;
  imageKeyLength: number;
}

const IMAGE_KEY_PART = Buffer.from('{"imageKey":', 'latin1');
const IMAGE_SHA256_PART = Buffer.from(',"imageSha256":', 'latin1');
const ITEM_ID_PART = Buffer.from(',"itemId":"', 'latin1');
const TEXT_SHA256_PART = Buffer.from('","textSha256":', 'latin1');

/** Each byte's two lowercase hex digits, as character codes. */
const HEX_DIGITS = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX_DIGITS[2 * b] = '0123456789abcdef'.charCodeAt(b >> 4);
  HEX_DIGITS[2 * b + 1] = '0123456789abcdef'.charCodeAt(b & 15);
}

// A loop, not Buffer.copy: for some tens of bytes the call costs more than the copying.
function putBytes(to: Buffer, o: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) to[o++] = bytes[i];
  return o;
}

/** The 16 bytes of a uuid at `at` of `from`, as PostgreSQL writes it: 8-4-4-4-12 lowercase hex digits. */
function putUuid(to: Buffer, o: number, from: Buffer, at: number): number {
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) to[o++] = 0x2d;
    const b = from[at + i];
    to[o++] = HEX_DIGITS[2 * b];
    to[o++] = HEX_DIGITS[2 * b + 1];
  }
  return o;
}

/** The uuid of 16 bytes at `at` of `from`, as text. */
export function uuidText(from: Buffer, at: number): string {
  putUuid(UUID_TEXT, 0, from, at);
  return UUID_TEXT.toString('latin1', 0, 36);
}

const UUID_TEXT = Buffer.alloc(36);

/**
 * The UTF-8 string of `length` bytes at `at` of `from`, as JSON: between quotes as it is when
 * PLAIN (checked as it is copied), or else as JSON.stringify writes it, in UTF-8.
 */
function putJsonString(to: Buffer, o: number, from: Buffer, at: number, length: number): number {
  const start = o;
  to[o++] = 0x22;
  for (let i = at; i < at + length; i++) {
    const b = from[i];
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) {
      return start + to.write(JSON.stringify(from.toString('utf8', at, at + length)), start, 'utf8');
    }
    to[o++] = b;
  }
  to[o++] = 0x22;
  return o;
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

/**
 * The manifest as stored, in pieces: canonical JSON, so its hash is a function of its content.
 * Items and exclusions, the bulk, are built with their keys in sorted order, so JSON.stringify
 * writes them canonically (five times faster than canonicalJson over 100,000 items), a slice
 * at a time; the unit test holds the whole equal to canonicalJson. Items already written
 * (assembleSnapshot) are passed as they are. The root's place is marked, not written, so the
 * bytes before it can be stored while the root is taken.
 */
function* manifestPieces(m: UnrootedManifest, itemBytes?: Buffer[]): Generator<string | Buffer | typeof MERKLE_ROOT> {
  const fields = { ...m, merkleRoot: MERKLE_ROOT } as Record<string, unknown>;
  let first = true;
  for (const k of Object.keys(fields).sort()) {
    yield `${first ? '{' : ','}${JSON.stringify(k)}:`;
    first = false;
    if (k === 'merkleRoot') yield MERKLE_ROOT;
    else if (k === 'items' && itemBytes) {
      yield '[';
      yield* itemBytes;
      yield ']';
    } else if (k === 'items' || k === 'excluded') {
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
  return Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/**
 * The same bytes as manifestBytes, as a stream that waits for the root only where the root goes
 * (after the items), so storing the manifest and taking the root overlap. A rejected root fails
 * the stream, and the storage keeps nothing of it. An assembled snapshot streams its items as
 * they were written.
 */
export async function* manifestStream(m: UnrootedManifest | AssembledSnapshot, merkleRoot: Promise<string>): AsyncGenerator<Buffer> {
  const pieces = 'itemBytes' in m ? manifestPieces(m.manifest, m.itemBytes) : manifestPieces(m);
  for (const p of pieces) {
    if (p === MERKLE_ROOT) yield Buffer.from(JSON.stringify(await merkleRoot), 'utf8');
    else yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  }
}
