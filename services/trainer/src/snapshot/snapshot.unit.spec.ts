import {
  canonicalJson,
  ConsentRecorded,
  ConsentWithdrawn,
  evolveSubjectConsents,
  merkleRoot,
  SubjectConsentEvent,
  SubjectConsentState,
  verifyMerkleInclusion,
  merkleInclusionProof,
  merkleRootOfLeafHashes,
} from '@trellis/contracts';
import { Prng } from '@trellis/synthetic';
import { MerkleRootWorker, merkleRootOfLeafBuffer } from './merkle-root';
import { SetItemsCopyReader, setItemsCopySql } from './set-items-copy';
import { plainSnapshot } from './snapshot-reference.fixture';
import {
  answerSha256,
  assembleSnapshot,
  FreezeInput,
  exclusionReason,
  manifestBytes,
  manifestStream,
  planSnapshot,
  selectSnapshot,
  SnapshotWriter,
  supervisedPairs,
  freezeRetrainSnapshot,
  freezeSnapshot,
  heldOutSubjects,
  SetItemRow,
  snapshotCounts,
  itemLeafHash,
  snapshotLeaf,
} from './snapshot';

const now = new Date('2026-12-04T12:00:00Z');
const setId = '01930000-0000-7000-8000-0000000000a1';
const evalSetId = '01930000-0000-7000-8000-0000000000a2';
const subject = (n: number) => `01930000-0000-7000-8000-0000000001${String(n).padStart(2, '0')}`;
const item = (n: number) => `01930000-0000-7000-8000-0000000002${String(n).padStart(2, '0')}`;
const sha = (n: number) => n.toString(16).padStart(64, '0');

/** Builder for a subject's consent events, the one style used here. */
class Consent {
  private events: SubjectConsentEvent[];
  constructor(private readonly subjectId: string) {
    this.events = [{ type: 'SubjectRegistered', data: { subjectId } }];
  }
  permit(
    purposes: ConsentRecorded['data']['purposes'] = ['model-training'],
    period: { start: string | null; end: string | null } = { start: null, end: null },
  ): this {
    this.events.push({
      type: 'ConsentRecorded',
      data: { subjectId: this.subjectId, consentId: 'c1', status: 'active', decision: 'permit', purposes, period, sourceSha256: null, fhirVersion: null },
    });
    return this;
  }
  deny(): this {
    this.events.push({
      type: 'ConsentRecorded',
      data: {
        subjectId: this.subjectId,
        consentId: 'c2',
        status: 'active',
        decision: 'deny',
        purposes: ['model-training'],
        period: { start: null, end: null },
        sourceSha256: null,
        fhirVersion: null,
      },
    });
    return this;
  }
  withdraw(purposes: ConsentWithdrawn['data']['purposes'] = ['model-training']): this {
    this.events.push({ type: 'ConsentWithdrawn', data: { subjectId: this.subjectId, consentId: 'c1', purposes, eraseData: false } });
    return this;
  }
  erase(): this {
    this.events.push({
      type: 'SubjectErased',
      data: { subjectId: this.subjectId, reason: 'gdpr-art17', assetCount: 0, blobsDeleted: 0 },
    });
    return this;
  }
  state(): SubjectConsentState {
    return this.events.reduce(evolveSubjectConsents, { status: 'none' } as SubjectConsentState);
  }
}

const row = (n: number, subjectN: number, set = setId): SetItemRow => ({
  setId: set,
  itemId: item(n),
  subjectId: subject(subjectN),
  imageKey: `curated/${sha(n)}`,
  imageSha256: sha(n),
  textSha256: answerSha256({ kind: 'caption', caption: `caption ${n}` }),
  leafSha256: itemLeafHash({
    setId: set,
    itemId: item(n),
    subjectId: subject(subjectN),
    imageSha256: sha(n),
    textSha256: answerSha256({ kind: 'caption', caption: `caption ${n}` }),
  }).toString('hex'),
});

const ref = { setId, projectId: '01930000-0000-7000-8000-0000000000f1', version: 1, contentSha256: sha(99) };

/**
 * Rows as PostgreSQL's binary COPY of setItemsCopySql sends them (its format, written out
 * independently of the reader): the signature, flags and an empty header extension with the first
 * row, then a row per message (a uuid as its 16 bytes, a text as its UTF-8, a bytea as it is),
 * then the trailer. `leaf` may stand in for a row's leaf bytes.
 */
function binaryCopy(rows: readonly SetItemRow[], leaf = (r: SetItemRow) => Buffer.from(r.leafSha256, 'hex')): Buffer[] {
  const int16 = (n: number) => Buffer.from([(n >> 8) & 255, n & 255]);
  const field = (b: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(b.length);
    return [length, b];
  };
  const uuid = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');
  const utf8 = (t: string) => Buffer.from(t, 'utf8');
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  const messages = rows.map((r) =>
    Buffer.concat([
      int16(6),
      ...field(uuid(r.itemId)),
      ...field(uuid(r.subjectId)),
      ...field(utf8(r.imageSha256)),
      ...field(utf8(r.textSha256)),
      ...field(leaf(r)),
      ...field(utf8(r.imageKey)),
    ]),
  );
  return [Buffer.concat([header, ...messages.slice(0, 1)]), ...messages.slice(1), int16(-1)];
}

/** A row's text values as PostgreSQL keeps them: UTF-8 (a lone surrogate becomes U+FFFD). */
const storedAsUtf8 = (r: SetItemRow): SetItemRow => {
  const utf8 = (t: string) => Buffer.from(t, 'utf8').toString('utf8');
  const out = { ...r, imageKey: utf8(r.imageKey), imageSha256: utf8(r.imageSha256), textSha256: utf8(r.textSha256) };
  return { ...out, leafSha256: itemLeafHash(out).toString('hex') };
};

/** One set's snapshot as a freeze streams it: planned from its rows' subjects, placed from its binary COPY, in `messages` pushes. */
function placedFromCopy(input: FreezeInput & { evaluation: { kind: 'held-out' } }, messages: Buffer[]) {
  const plan = planSnapshot({
    purpose: input.purpose,
    now: input.now,
    seed: input.seed,
    evaluation: input.evaluation,
    consentOf: (s) => input.consent.get(s),
    trainingSubjects: input.items.map((r) => r.subjectId),
    evaluationSubjects: [],
  });
  const head = { ...input, evaluationSets: [], heldOutFraction: input.evaluation.fraction };
  const writer = new SnapshotWriter(head, { listTrainItems: true, expectedItems: input.items.length });
  const reader = new SetItemsCopyReader(input.annotationSets[0].setId, plan.training, writer);
  for (const m of messages) reader.push(m);
  expect(reader.end()).toBe(input.items.length);
  return writer.finish();
}

describe('supervisedPairs', () => {
  it('learns a caption under the synthetic data set’s prompt, each question/answer pair, and a label', () => {
    expect(supervisedPairs({ kind: 'caption', caption: 'a round mass' })).toEqual([{ prompt: 'Describe the image.', answer: 'a round mass' }]);
    expect(
      supervisedPairs({
        kind: 'vqa',
        pairs: [
          { question: 'Where?', answer: 'left' },
          { question: 'Size?', answer: 'small' },
        ],
      }),
    ).toEqual([
      { prompt: 'Where?', answer: 'left' },
      { prompt: 'Size?', answer: 'small' },
    ]);
    expect(supervisedPairs({ kind: 'classification', label: 'normal' })).toEqual([{ prompt: 'What is shown in the image?', answer: 'normal' }]);
  });
});

describe('exclusionReason', () => {
  it('gives the reason that matters most, or null for a subject who permits the purpose', () => {
    expect(exclusionReason(new Consent(subject(1)).permit().state(), 'model-training', now)).toBeNull();
    expect(exclusionReason(undefined, 'model-training', now)).toBe('unknown-subject');
    expect(exclusionReason(new Consent(subject(1)).state(), 'model-training', now)).toBe('no-consent');
    expect(exclusionReason(new Consent(subject(1)).permit(['research']).state(), 'model-training', now)).toBe('no-consent');
    expect(exclusionReason(new Consent(subject(1)).permit().withdraw().state(), 'model-training', now)).toBe('consent-withdrawn');
    expect(exclusionReason(new Consent(subject(1)).permit().deny().state(), 'model-training', now)).toBe('consent-denied');
    expect(
      exclusionReason(new Consent(subject(1)).permit(['model-training'], { start: null, end: '2026-01-01T00:00:00Z' }).state(), 'model-training', now),
    ).toBe('consent-expired');
    expect(exclusionReason(new Consent(subject(1)).permit().withdraw().erase().state(), 'model-training', now)).toBe('subject-erased');
  });

  it('judges the purpose asked for: a research withdrawal leaves model training permitted', () => {
    const state = new Consent(subject(1)).permit(['model-training', 'research']).withdraw(['research']).state();
    expect(exclusionReason(state, 'model-training', now)).toBeNull();
    expect(exclusionReason(state, 'research', now)).toBe('consent-withdrawn');
  });
});

describe('heldOutSubjects', () => {
  const subjects = Array.from({ length: 10 }, (_, i) => subject(i));

  it('holds out the fraction of subjects, the same ones for the same seed whatever the order', () => {
    const a = heldOutSubjects(subjects, 0.2, 7);
    expect(a.size).toBe(2);
    expect(heldOutSubjects([...subjects].reverse(), 0.2, 7)).toEqual(a);
    const seeds = new Set(Array.from({ length: 8 }, (_, s) => [...heldOutSubjects(subjects, 0.2, s)].sort().join()));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('holds out at least one and never every subject, and none of one', () => {
    expect(heldOutSubjects(subjects, 0.01, 1).size).toBe(1);
    expect(heldOutSubjects(subjects, 0.99, 1).size).toBe(9);
    expect(heldOutSubjects([subject(1)], 0.5, 1).size).toBe(0);
  });
});

describe('freezeSnapshot', () => {
  const consent = new Map<string, SubjectConsentState>([
    [subject(1), new Consent(subject(1)).permit().state()],
    [subject(2), new Consent(subject(2)).permit().state()],
    [subject(3), new Consent(subject(3)).permit().withdraw().state()],
    [subject(4), new Consent(subject(4)).permit().state()],
    [subject(5), new Consent(subject(5)).permit().state()],
  ]);
  const rows = [row(1, 1), row(2, 1), row(3, 2), row(4, 3), row(5, 4), row(6, 5), row(7, 6)];
  const freeze = () =>
    freezeSnapshot({
      runId: 'r',
      purpose: 'model-training',
      now,
      seed: 3,
      annotationSets: [ref],
      items: [...rows].reverse(),
      evaluation: { kind: 'held-out', fraction: 0.25 },
      consent,
    });

  it('includes the consenting subjects, lists the others with their reason, and splits by subject', () => {
    const m = freeze();
    expect(m.items.map((i) => i.itemId)).toEqual([1, 2, 3, 5, 6].map(item));
    expect(m.excluded).toEqual([
      { setId, itemId: item(4), subjectId: subject(3), reason: 'consent-withdrawn' },
      { setId, itemId: item(7), subjectId: subject(6), reason: 'unknown-subject' },
    ]);
    const train = new Set(m.items.filter((i) => i.split === 'train').map((i) => i.subjectId));
    const heldOut = new Set(m.items.filter((i) => i.split === 'held-out').map((i) => i.subjectId));
    expect(heldOut.size).toBe(1);
    expect([...heldOut].some((s) => train.has(s))).toBe(false);
  });

  it('puts an RFC 6962 root over the included items, so one item can be proven in it', () => {
    const m = freeze();
    const leaves = m.items.map(snapshotLeaf);
    expect(m.merkleRoot).toBe(merkleRoot(leaves));
    expect(verifyMerkleInclusion({ entry: leaves[2], index: 2, size: leaves.length, proof: merkleInclusionProof(leaves, 2), root: m.merkleRoot })).toBe(true);
  });

  it('writes leaves and manifest bytes exactly as canonicalJson would, however the input was ordered', () => {
    const m = freezeSnapshot({
      runId: 'r',
      purpose: 'model-training',
      now,
      seed: 3,
      annotationSets: [{ version: 1, setId, contentSha256: sha(99), projectId: ref.projectId }],
      items: [row(1, 1), row(3, 2)],
      evaluation: { kind: 'sets', annotationSets: [{ ...ref, setId: evalSetId }], items: [row(10, 2, evalSetId), row(11, 3, evalSetId)] },
      consent,
    });
    expect(manifestBytes(m).toString('utf8')).toBe(canonicalJson(m));
    const retrain = freezeRetrainSnapshot({ runId: 'n', now, replaced: m, replacedSha256: sha(7), consent: new Map() });
    expect(manifestBytes(retrain).toString('utf8')).toBe(canonicalJson(retrain));
    const { setId: set, itemId, subjectId, imageSha256, textSha256, split } = m.items[0];
    expect(snapshotLeaf(m.items[0]).toString('utf8')).toBe(canonicalJson({ setId: set, itemId, subjectId, imageSha256, textSha256 }));
    expect(split).toBe('train');
  });

  it('is a function of its input: equal input, equal manifest', () => {
    expect(freeze()).toEqual(freeze());
  });

  it('counts what the event carries', () => {
    expect(snapshotCounts(freeze())).toEqual({
      merkleRoot: freeze().merkleRoot,
      includedItems: 5,
      excludedItems: 2,
      includedSubjects: 4,
      excluded: [
        { reason: 'consent-withdrawn', count: 1 },
        { reason: 'unknown-subject', count: 1 },
      ],
      trainItems: expect.any(Number),
      heldOutItems: expect.any(Number),
      trainSubjects: 3,
      heldOutSubjects: 1,
      consentAsOf: now.toISOString(),
    });
  });

  it('with evaluation sets, holds those out and drops training items of their subjects', () => {
    const m = freezeSnapshot({
      runId: 'r',
      purpose: 'model-training',
      now,
      seed: 3,
      annotationSets: [ref],
      items: [row(1, 1), row(3, 2)],
      evaluation: { kind: 'sets', annotationSets: [{ ...ref, setId: evalSetId }], items: [row(10, 2, evalSetId), row(11, 3, evalSetId)] },
      consent,
    });
    expect(m.items.map((i) => [i.itemId, i.split])).toEqual([
      [item(1), 'train'],
      [item(10), 'held-out'],
    ]);
    expect(m.excluded.map((e) => [e.itemId, e.reason])).toEqual([
      [item(3), 'subject-in-evaluation-set'],
      [item(11), 'consent-withdrawn'],
    ]);
  });
});

describe('freezeRetrainSnapshot', () => {
  it("leaves out the replaced snapshot's subjects who withdrew or were erased since, keeps every other split, and records the difference", () => {
    const before = new Map<string, SubjectConsentState>([1, 2, 4, 5].map((n) => [subject(n), new Consent(subject(n)).permit().state()]));
    const old = freezeSnapshot({
      runId: 'old',
      purpose: 'model-training',
      now,
      seed: 3,
      annotationSets: [ref],
      items: [row(1, 1), row(2, 1), row(3, 2), row(5, 4), row(6, 5)],
      evaluation: { kind: 'held-out', fraction: 0.25 },
      consent: before,
    });
    const after = new Map(before);
    after.set(subject(1), new Consent(subject(1)).permit().withdraw().state());
    after.set(subject(4), new Consent(subject(4)).permit().erase().state());
    const later = new Date('2026-12-05T00:00:00Z');
    const m = freezeRetrainSnapshot({ runId: 'new', now: later, replaced: old, replacedSha256: sha(42), consent: after });
    expect(m.items.map((i) => i.itemId)).toEqual([3, 6].map(item));
    expect(m.items.map((i) => i.split)).toEqual(old.items.filter((i) => [item(3), item(6)].includes(i.itemId)).map((i) => i.split));
    expect(m.replaces).toMatchObject({ runId: 'old', snapshotSha256: sha(42), removedItems: 3, removedSubjects: 2 });
    expect(m.replaces!.removed.map((r) => [r.itemId, r.reason])).toEqual([
      [item(1), 'consent-withdrawn'],
      [item(2), 'consent-withdrawn'],
      [item(5), 'subject-erased'],
    ]);
    expect(m.merkleRoot).toBe(merkleRoot(m.items.map(snapshotLeaf)));
    expect(m.consentAsOf).toBe(later.toISOString());
  });
});

describe('manifestStream', () => {
  const collect = async (chunks: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(c);
    return Buffer.concat(out);
  };
  // More items than one piece of the stream holds, some excluded, so the pieces' joins are crossed.
  const many = Array.from({ length: 4321 }, (_, n) => row(n, n % 7));
  const consent = new Map<string, SubjectConsentState>([1, 2, 3, 4, 5].map((n) => [subject(n), new Consent(subject(n)).permit().state()]));
  const input = {
    runId: 'r',
    purpose: 'model-training' as const,
    now,
    seed: 3,
    annotationSets: [ref],
    items: many,
    evaluation: { kind: 'held-out' as const, fraction: 0.25 },
    consent,
  };

  it('writes the bytes manifestBytes and canonicalJson write, the root where it belongs', async () => {
    const m = freezeSnapshot(input);
    expect(m.items.length).toBeGreaterThan(2000);
    expect(m.excluded.length).toBeGreaterThan(0);
    const { manifest } = selectSnapshot(input);
    const streamed = await collect(manifestStream(manifest, Promise.resolve(m.merkleRoot)));
    expect(streamed.toString('utf8')).toBe(canonicalJson(m));
    expect(streamed.equals(manifestBytes(m))).toBe(true);
  });

  it('fails when the root fails, after the items', async () => {
    const { manifest } = selectSnapshot(input);
    const seen: string[] = [];
    const chunks = manifestStream(manifest, Promise.reject(new Error('no root')));
    await expect(
      (async () => {
        for await (const c of chunks) seen.push(c.toString('utf8'));
      })(),
    ).rejects.toThrow('no root');
    expect(seen.join('')).toContain('"items":[');
    expect(seen.join('')).not.toContain('"merkleRoot":"');
  });
});

describe('selectSnapshot', () => {
  it('gives the leaf hashes of the included items in manifest order, whose root is the manifest’s', () => {
    const consent = new Map<string, SubjectConsentState>([1, 2].map((n) => [subject(n), new Consent(subject(n)).permit().state()]));
    const input = {
      runId: 'r',
      purpose: 'model-training' as const,
      now,
      seed: 3,
      annotationSets: [ref],
      items: [row(3, 2), row(1, 1), row(2, 9)],
      evaluation: { kind: 'held-out' as const, fraction: 0.5 },
      consent,
    };
    const { manifest, leaves } = selectSnapshot(input);
    expect(manifest.items.map((i) => i.itemId)).toEqual([item(1), item(3)]);
    expect(leaves.toString('hex')).toBe(row(1, 1).leafSha256 + row(3, 2).leafSha256);
    expect(freezeSnapshot(input).merkleRoot).toBe(merkleRoot(manifest.items.map(snapshotLeaf)));
  });

  it('refuses an item whose leaf hash is not 64 hex digits, rather than root zeros', () => {
    const consent = new Map([[subject(1), new Consent(subject(1)).permit().state()]]);
    const base = {
      runId: 'r',
      purpose: 'model-training' as const,
      now,
      seed: 3,
      annotationSets: [ref],
      evaluation: { kind: 'held-out' as const, fraction: 0.5 },
      consent,
    };
    for (const leafSha256 of ['ab', 'zz'.repeat(32), `${'0'.repeat(63)}`]) {
      expect(() => selectSnapshot({ ...base, items: [{ ...row(1, 1), leafSha256 }] })).toThrow(`item ${item(1)}`);
    }
  });
});

describe('assembleSnapshot', () => {
  const collect = async (chunks: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(c);
    return Buffer.concat(out);
  };
  const consent = new Map<string, SubjectConsentState>([
    ...[1, 2, 4, 5].map((n): [string, SubjectConsentState] => [subject(n), new Consent(subject(n)).permit().state()]),
    [subject(3), new Consent(subject(3)).permit().withdraw().state()],
    [subject(6), new Consent(subject(6)).permit().erase().state()],
  ]);
  const otherSetId = '01930000-0000-7000-8000-0000000000a3';
  const base = { runId: 'r', purpose: 'model-training' as const, now, seed: 3, annotationSets: [ref], consent };
  const cases: Record<string, FreezeInput> = {
    'one set read in item order, over more items than a piece': {
      ...base,
      items: Array.from({ length: 4321 }, (_, n) => row(n, n % 8)),
      evaluation: { kind: 'held-out', fraction: 0.25 },
    },
    'two sets whose items interleave, one item in both': {
      ...base,
      annotationSets: [ref, { ...ref, setId: otherSetId }],
      items: [row(1, 1), row(4, 2), row(9, 3), row(2, 4, otherSetId), row(4, 5, otherSetId), row(7, 6, otherSetId)],
      evaluation: { kind: 'held-out', fraction: 0.5 },
    },
    'evaluation sets sharing subjects with the training sets': {
      ...base,
      items: [row(1, 1), row(3, 2), row(5, 3), row(6, 4)],
      evaluation: { kind: 'sets', annotationSets: [{ ...ref, setId: evalSetId }], items: [row(2, 2, evalSetId), row(10, 3, evalSetId), row(11, 5, evalSetId)] },
    },
    'a set listed twice, and as its own evaluation set': {
      ...base,
      annotationSets: [ref, ref],
      items: [row(1, 1), row(2, 2), row(3, 3), row(1, 1), row(2, 2), row(3, 3)],
      evaluation: { kind: 'sets', annotationSets: [ref], items: [row(2, 2), row(3, 3)] },
    },
  };

  for (const [name, input] of Object.entries(cases)) {
    it(`writes the bytes, counts, leaves and training items of freezeSnapshot: ${name}`, async () => {
      const m = freezeSnapshot(input);
      const handedOn: Buffer[] = [];
      const assembled = assembleSnapshot(input, { listTrainItems: true, onLeaves: (l) => handedOn.push(Buffer.from(l)) });
      expect(Buffer.concat(handedOn).equals(assembled.leaves)).toBe(true);
      const bytes = await collect(manifestStream(assembled, Promise.resolve(m.merkleRoot)));
      expect(bytes.toString('utf8')).toBe(canonicalJson(m));
      const { merkleRoot: root, ...counts } = snapshotCounts(m);
      expect(assembled.counts).toEqual(counts);
      expect(merkleRootOfLeafHashes(Array.from({ length: assembled.leaves.length / 32 }, (_, i) => assembled.leaves.subarray(i * 32, i * 32 + 32)))).toBe(root);
      expect(assembled.trainItems).toEqual(m.items.filter((i) => i.split === 'train').map(({ setId: s, itemId }) => ({ setId: s, itemId })));
      expect(assembleSnapshot(input, { listTrainItems: false }).trainItems).toBeNull();
    });
  }
});

describe('freezeSnapshot and assembleSnapshot against the rules read plainly', () => {
  const collect = async (chunks: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(c);
    return Buffer.concat(out);
  };
  const later = new Date('2027-01-01T00:00:00Z');
  const states: ((s: string) => SubjectConsentState | undefined)[] = [
    (s) => new Consent(s).permit().state(),
    (s) => new Consent(s).permit().state(),
    (s) => new Consent(s).permit(['model-training', 'research']).withdraw(['research']).state(),
    (s) => new Consent(s).permit().withdraw().state(),
    (s) => new Consent(s).permit().deny().state(),
    (s) => new Consent(s).permit(['model-training'], { start: null, end: now.toISOString() }).state(),
    (s) => new Consent(s).permit(['model-training'], { start: later.toISOString(), end: null }).state(),
    (s) => new Consent(s).permit().erase().state(),
    (s) => new Consent(s).permit(['research']).state(),
    (s) => new Consent(s).state(),
    () => undefined,
  ];
  // Values a set may hold that JSON must escape, or that are not ASCII.
  const odd = [
    'a "quoted" key',
    'back\\slash',
    'line\nbreak\ttab\u0001',
    'caf\u00e9/\u6f22\u5b57',
    'emoji \ud83d\ude00',
    'lone \ud800 surrogate',
    '\u007f\u0080',
  ];
  const setIds = ['01930000-0000-7000-8000-0000000000a1', '01930000-0000-7000-8000-0000000000a3', '01930000-0000-7000-8000-0000000000a5'];

  /** A random run over up to three sets of up to 40 items, some items in several sets, with every kind of consent. */
  function randomInput(seed: number): FreezeInput {
    const prng = new Prng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(prng.next() * xs.length)];
    const subjects = Array.from({ length: 1 + Math.floor(prng.next() * 12) }, (_, n) => subject(n));
    const consent = new Map<string, SubjectConsentState>();
    for (const s of subjects) {
      const state = pick(states)(s);
      if (state) consent.set(s, state);
    }
    // Each set's rows once, in item order, as a set is read; ids drawn from a shared pool, so sets interleave and share items.
    const rowsOf = new Map(
      setIds.map((set) => {
        const ids = [...new Set(Array.from({ length: Math.floor(prng.next() * 40) }, () => Math.floor(prng.next() * 60)))].sort((a, b) => a - b);
        return [
          set,
          ids.map((n) => {
            const r = row(n, 0, set);
            const subjectId = pick(subjects);
            const imageKey = prng.next() < 0.1 ? `${pick(odd)} ${n}` : r.imageKey;
            const textSha256 = prng.next() < 0.05 ? pick(odd) : r.textSha256;
            const leaf = itemLeafHash({ setId: set, itemId: r.itemId, subjectId, imageSha256: r.imageSha256, textSha256 }).toString('hex');
            return { ...r, subjectId, imageKey, textSha256, leafSha256: leaf };
          }),
        ];
      }),
    );
    const refs = (n: number) => Array.from({ length: n }, () => ({ ...ref, setId: pick(setIds) }));
    const annotationSets = refs(1 + Math.floor(prng.next() * 3));
    const rows = (sets: { setId: string }[]) => sets.flatMap((s) => rowsOf.get(s.setId)!);
    const evaluationSets = refs(1 + Math.floor(prng.next() * 2));
    return {
      runId: `run-${seed}`,
      purpose: 'model-training',
      now,
      seed,
      annotationSets,
      items: rows(annotationSets),
      evaluation:
        prng.next() < 0.5
          ? { kind: 'held-out', fraction: pick([0.1, 0.25, 0.5, 0.9]) }
          : { kind: 'sets', annotationSets: evaluationSets, items: rows(evaluationSets) },
      consent,
    };
  }

  it('gives the same bytes, root and counts for 300 random runs (sets shared, listed twice, interleaving; every consent; values to escape)', async () => {
    let escaped = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const input = randomInput(seed);
      const { manifest, bytes } = plainSnapshot(input);
      if (/\\|[^\x20-\x7e]/.test(bytes)) escaped++;
      expect(canonicalJson(freezeSnapshot(input))).toBe(bytes);
      const assembled = assembleSnapshot(input, { listTrainItems: true });
      const streamed = await collect(manifestStream(assembled, merkleRootOfLeafBuffer(assembled.leaves, Infinity)));
      expect(streamed.toString('utf8')).toBe(bytes);
      expect(streamed.equals(Buffer.from(bytes, 'utf8'))).toBe(true);
      const { merkleRoot: root, ...counts } = snapshotCounts(manifest);
      expect(assembled.counts).toEqual(counts);
      expect(streamed.toString('utf8')).toContain(`"merkleRoot":"${root}"`);
      expect(assembled.trainItems).toEqual(manifest.items.filter((i) => i.split === 'train').map(({ setId: s, itemId }) => ({ setId: s, itemId })));
    }
    expect(escaped).toBeGreaterThan(10);
  });

  it('places one set read as a binary COPY as the rules give, for 300 random runs, however the COPY is cut into pushes', async () => {
    let escaped = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = randomInput(seed);
      const set = random.annotationSets[0];
      // The set's rows once each, in item order, as the COPY reads them; their text as stored.
      const items = [...new Map(random.items.filter((r) => r.setId === set.setId).map((r) => [r.itemId, storedAsUtf8(r)])).values()];
      const input = { ...random, annotationSets: [set], items, evaluation: { kind: 'held-out' as const, fraction: 0.25 } };
      const { manifest, bytes } = plainSnapshot(input);
      if (/\\|[^\x20-\x7e]/.test(bytes)) escaped++;
      const messages = binaryCopy(items);
      const cuts = [messages, [Buffer.concat(messages)], [messages[0].subarray(0, 19), messages[0].subarray(19), ...messages.slice(1)]];
      for (const pushes of cuts) {
        const assembled = placedFromCopy(input, pushes);
        const streamed = await collect(manifestStream(assembled, merkleRootOfLeafBuffer(assembled.leaves, Infinity)));
        expect(streamed.equals(Buffer.from(bytes, 'utf8'))).toBe(true);
        const { merkleRoot: root, ...counts } = snapshotCounts(manifest);
        expect(assembled.counts).toEqual(counts);
        expect(streamed.toString('utf8')).toContain(`"merkleRoot":"${root}"`);
        expect(assembled.trainItems).toEqual(manifest.items.filter((i) => i.split === 'train').map(({ setId: s, itemId }) => ({ setId: s, itemId })));
      }
    }
    expect(escaped).toBeGreaterThan(10);
  });

  it('starts a new piece of the stored bytes for an item bigger than what is left of one', async () => {
    const consent = new Map([1, 2].map((n): [string, SubjectConsentState] => [subject(n), new Consent(subject(n)).permit().state()]));
    const big = { ...row(2, 2), imageKey: `curated/${'\u00e9'.repeat(400_000)}` };
    const input: FreezeInput = {
      runId: 'r',
      purpose: 'model-training',
      now,
      seed: 3,
      annotationSets: [ref],
      items: [row(1, 1), { ...big, leafSha256: itemLeafHash(big).toString('hex') }, row(3, 1)],
      evaluation: { kind: 'held-out', fraction: 0.5 },
      consent,
    };
    const assembled = assembleSnapshot(input, { listTrainItems: false });
    expect(assembled.itemBytes.length).toBe(2);
    expect(assembled.itemBytes[0].toString('utf8')).toBe(canonicalJson([freezeSnapshot(input).items[0]]).slice(1, -1));
    const { manifest, bytes } = plainSnapshot(input);
    expect((await collect(manifestStream(assembled, Promise.resolve(manifest.merkleRoot)))).toString('utf8')).toBe(bytes);
  });
});

describe(SetItemsCopyReader.name, () => {
  const consent = new Map([1, 2, 3].map((n): [string, SubjectConsentState] => [subject(n), new Consent(subject(n)).permit().state()]));
  consent.set(subject(3), new Consent(subject(3)).permit().withdraw().state());
  const input = (items: SetItemRow[]) => ({
    runId: 'r',
    purpose: 'model-training' as const,
    now,
    seed: 3,
    annotationSets: [ref],
    items,
    evaluation: { kind: 'held-out' as const, fraction: 0.5 },
    consent,
  });
  const rows = [row(1, 1), row(2, 3), row(3, 2), row(4, 1)];
  const failure = (items: SetItemRow[], messages: Buffer[], planned = items) => {
    try {
      placedFromCopy({ ...input(planned), items: planned }, messages);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  };

  it('places rows of subjects who come again, excluded ones between', () => {
    const { manifest, bytes } = plainSnapshot(input(rows));
    const assembled = placedFromCopy(input(rows), binaryCopy(rows));
    expect(Buffer.concat(assembled.itemBytes).toString('utf8')).toBe(canonicalJson(manifest.items).slice(1, -1));
    expect(assembled.manifest.excluded).toEqual(manifest.excluded);
    expect(bytes).toContain('consent-withdrawn');
  });

  it('refuses rows out of item order, naming the items', () => {
    expect(failure(rows, binaryCopy([row(1, 1), row(3, 2), row(2, 3)]))).toBe(
      `the items of set ${setId} did not arrive in item order (${item(2)} after ${item(3)})`,
    );
    expect(failure(rows, binaryCopy([row(1, 1), row(1, 2)]))).toMatch(/did not arrive in item order/);
  });

  it('refuses an item whose subject was not planned for, or whose leaf hash is not 32 bytes, naming the item, not the subject', () => {
    expect(failure(rows, binaryCopy([row(1, 1), row(5, 4)]))).toBe(`item ${item(5)} of set ${setId} has a subject the snapshot was not planned for`);
    const short = (r: SetItemRow) => Buffer.from(r.leafSha256, 'hex').subarray(0, r.itemId === item(3) ? 31 : 32);
    expect(failure(rows, binaryCopy(rows, short))).toBe(`item ${item(3)} of set ${setId} has no valid leaf hash`);
    // An excluded item's leaf is not read, as with rows read as text.
    const excludedShort = (r: SetItemRow) => Buffer.from(r.leafSha256, 'hex').subarray(0, r.itemId === item(2) ? 31 : 32);
    expect(failure(rows, binaryCopy(rows, excludedShort))).toBeNull();
  });

  it('refuses data that is not a whole binary COPY of the six columns', () => {
    const messages = binaryCopy(rows);
    expect(failure(rows, messages.slice(0, -1))).toBe(`the COPY of the items of set ${setId} ended before its last row`);
    expect(failure(rows, [Buffer.from('item\tsubject\n'), ...messages.slice(1)])).toMatch(/does not start as a binary COPY$/);
    expect(failure(rows, [messages[0].subarray(0, messages[0].length - 3), ...messages.slice(1)])).toMatch(/has a row cut short$/);
    expect(failure(rows, [...messages, messages[1]])).toMatch(/has data after its end or a row cut short$/);
    const fiveColumns = Buffer.from(messages[1]);
    fiveColumns.writeInt16BE(5, 0);
    expect(failure(rows, [messages[0], fiveColumns, ...messages.slice(2)])).toMatch(/has a row of 5 columns$/);
    const noKey = Buffer.concat([messages[1].subarray(0, messages[1].length - 4 - Buffer.byteLength(rows[1].imageKey)), Buffer.from([255, 255, 255, 255])]);
    expect(failure(rows, [messages[0], noKey, ...messages.slice(2)])).toMatch(/has a row without image_key$/);
  });

  it('puts only a set id written as a uuid into the COPY', () => {
    expect(setItemsCopySql(setId)).toContain(`WHERE set_id = '${setId}' ORDER BY item_id`);
    expect(() => setItemsCopySql(`${setId}' OR true --`)).toThrow('not a set id');
  });
});

describe('merkleRootOfLeafBuffer', () => {
  const leavesOf = (n: number) =>
    Buffer.concat(
      Array.from({ length: n }, (_, i) =>
        itemLeafHash({ setId, itemId: item(i % 100), subjectId: subject(i % 7), imageSha256: sha(i), textSha256: sha(i + 1) }),
      ),
    );

  it('gives the root of merkleRootOfLeafHashes, on a worker thread and on the caller’s', async () => {
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 1000, 1025]) {
      const leaves = leavesOf(n);
      const expected = merkleRootOfLeafHashes(Array.from({ length: n }, (_, i) => leaves.subarray(i * 32, i * 32 + 32)));
      await expect(merkleRootOfLeafBuffer(leaves, 0)).resolves.toBe(expected);
      await expect(merkleRootOfLeafBuffer(leaves, Infinity)).resolves.toBe(expected);
    }
  });

  it('leaves the caller’s buffer as it was', async () => {
    const leaves = leavesOf(100);
    const copy = Buffer.from(leaves);
    await merkleRootOfLeafBuffer(leaves, 0);
    expect(leaves.equals(copy)).toBe(true);
  });

  it('refuses a buffer that is not whole 32-byte hashes', async () => {
    await expect(merkleRootOfLeafBuffer(Buffer.alloc(33), 0)).rejects.toThrow('32 bytes each; got 33');
  });

  it('uses a worker started before the leaves were known, or stops it when the leaves are too few to need it', async () => {
    const leaves = leavesOf(1025);
    const expected = merkleRootOfLeafHashes(Array.from({ length: 1025 }, (_, i) => leaves.subarray(i * 32, i * 32 + 32)));
    await expect(merkleRootOfLeafBuffer(leaves, 0, new MerkleRootWorker())).resolves.toBe(expected);
    await expect(merkleRootOfLeafBuffer(leaves, Infinity, new MerkleRootWorker())).resolves.toBe(expected);
    const worker = new MerkleRootWorker();
    worker.stop();
    await expect(worker.root()).rejects.toThrow('exited');
  });

  it('takes the leaves piece by piece, however they are cut, and answers for none or one', async () => {
    for (const n of [0, 1, 2, 3, 5, 8, 13, 1000, 2049]) {
      const leaves = leavesOf(n);
      const expected = merkleRootOfLeafHashes(Array.from({ length: n }, (_, i) => leaves.subarray(i * 32, i * 32 + 32)));
      for (const cut of [1, 7, 2000]) {
        const worker = new MerkleRootWorker();
        for (let i = 0; i < n; i += cut) worker.add(leaves.subarray(i * 32, Math.min(n, i + cut) * 32));
        await expect(worker.root()).resolves.toBe(expected);
        expect(() => worker.add(leaves)).toThrow('last leaves');
      }
    }
  });
});
