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
import { merkleRootOfLeafBuffer } from './merkle-root';
import {
  answerSha256,
  exclusionReason,
  manifestBytes,
  manifestStream,
  selectSnapshot,
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
});
