import { createHash } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { v7 as uuidv7 } from 'uuid';
import { DataSource } from 'typeorm';
import { AnnotationSetRef, SubjectConsentState, TrainingRequested } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { messagingConfigFromEnv } from '@trellis/messaging';
import { openObjectStorage, type ObjectStorage } from '@trellis/storage';
import { openTestDataSource } from '@trellis/testing';
import { consentStates } from '../consent/subject-consents.projection';
import { runStream } from '../runs/run.decider';
import { RunEvents } from '../runs/run-events.fixture';
import { RunStreams } from '../runs/run.streams';
import { TrainerAppModule } from '../trainer-app.module';
import { TRAINER_STORAGE } from '../trainer.tokens';
import { keepAnnotationSet } from '../annotation-sets/annotation-set.repository';
import { FreezeSnapshotUseCase, setItems } from './freeze-snapshot.usecase';
import { MerkleRootWorker, WORKER_MIN_LEAVES } from './merkle-root';
import { answerSha256, itemLeafHash, snapshotCounts } from './snapshot';
import { plainSnapshot } from './snapshot-reference.fixture';

const engineer = { id: 'prn-engineer', role: 'engineer' as const };
const permit = (subjectId: string, extra: Partial<SubjectConsentState> = {}): SubjectConsentState => ({
  status: 'registered',
  subjectId,
  consents: { c: { status: 'active', decision: 'permit', purposes: ['model-training'], withdrawn: [], start: null, end: null } },
  ...extra,
});
/** The consent kinds a set's subjects are given in turn; the last leaves the subject unknown to the trainer. */
const CONSENTS: ((subjectId: string) => SubjectConsentState | null)[] = [
  (s) => permit(s),
  (s) => permit(s),
  (s) => permit(s),
  (s) =>
    permit(s, {
      consents: { c: { status: 'active', decision: 'permit', purposes: ['model-training'], withdrawn: ['model-training'], start: null, end: null } },
    }),
  (s) => ({ status: 'erased', subjectId: s }) as SubjectConsentState,
  () => null,
];

describe(FreezeSnapshotUseCase.name, () => {
  let ds: DataSource;
  let moduleRef: TestingModule;
  let storage: ObjectStorage;

  /** A published set as the trainer keeps it (keepAnnotationSet), its subjects given CONSENTS in turn, or all `consents` one kind. */
  async function insertSet(
    items: number,
    subjects: number,
    consents: readonly ((subjectId: string) => SubjectConsentState | null)[] = CONSENTS,
  ): Promise<{ ref: AnnotationSetRef; subjectIds: string[] }> {
    const ref = { setId: uuidv7(), projectId: uuidv7(), version: 1, contentSha256: 'b'.repeat(64) };
    const subjectIds = Array.from({ length: subjects }, () => uuidv7());
    const rows = Array.from({ length: items }, (_, n) => {
      const answer = { kind: 'caption' as const, caption: `caption ${n}` };
      const imageSha256 = createHash('sha256').update(String(n)).digest('hex');
      // A few keys JSON must escape or that are not ASCII, as any text a set may hold.
      const imageKey = n % 997 === 5 ? `curated/"caf\u00e9"\\${n}` : `curated/${imageSha256}`;
      const row = { setId: ref.setId, itemId: uuidv7(), subjectId: subjectIds[n % subjects], imageKey, imageSha256, textSha256: answerSha256(answer), answer };
      return { ...row, leafSha256: itemLeafHash(row) };
    });
    await withTransaction(ds, (tx) => keepAnnotationSet(tx, { ...ref, artifactKey: 'test', artifactSha256: ref.contentSha256, publishedAt: new Date() }, rows));
    const states = subjectIds.map((s, i) => [s, consents[i % consents.length](s)] as const).filter(([, state]) => state !== null);
    await ds.query('INSERT INTO trainer_subject_consents (subject_id, state) SELECT * FROM unnest($1::uuid[], $2::jsonb[])', [
      states.map(([s]) => s),
      states.map(([, state]) => JSON.stringify(state)),
    ]);
    return { ref, subjectIds };
  }

  /** A requested run over the sets, its stream started as RunUseCases.request starts it. */
  async function requestRun(annotationSets: AnnotationSetRef[], evaluation: TrainingRequested['data']['evaluation']) {
    const requested = RunEvents.requested().data;
    const data: TrainingRequested['data'] = {
      ...requested,
      runId: uuidv7(),
      annotationSets,
      evaluation,
      hyperparameters: { ...requested.hyperparameters, seed: 5 },
    };
    const streams = moduleRef.get(RunStreams);
    await withTransaction(ds, (tx) => streams.start(tx, runStream(data.runId), [{ type: 'TrainingRequested', data }], engineer));
    return (await streams.load(data.runId)).state;
  }

  /** What the rules give for the rows and consent the database holds now. */
  async function expected(runId: string, now: Date, annotationSets: AnnotationSetRef[], evaluation: TrainingRequested['data']['evaluation']) {
    return withTransaction(ds, async (tx) => {
      const items = await setItems(tx, annotationSets);
      const evalItems = evaluation.kind === 'sets' ? await setItems(tx, evaluation.annotationSets) : [];
      const consent = await consentStates(
        tx,
        [...items, ...evalItems].map((r) => r.subjectId),
      );
      return plainSnapshot({
        runId,
        purpose: 'model-training',
        now,
        seed: 5,
        annotationSets,
        items,
        evaluation: evaluation.kind === 'sets' ? { ...evaluation, items: evalItems } : evaluation,
        consent,
      });
    });
  }

  beforeAll(async () => {
    ds = await openTestDataSource();
    // The object storage every suite uses: the snapshots' events stay in the shared trainer log, and a
    // later lineage rebuild (the lineage end-to-end suite's) must be able to read what they name.
    storage = await openObjectStorage();
    moduleRef = await Test.createTestingModule({
      imports: [
        TrainerAppModule.forRoot({
          dataSource: ds,
          databaseMode: 'external',
          messaging: messagingConfigFromEnv({ TRELLIS_MESSAGING: 'in-process' }),
          env: { ...process.env, TRAINER_CONCURRENCY: '0' },
        }),
      ],
    })
      .overrideProvider(TRAINER_STORAGE)
      .useValue(storage)
      .compile();
  });

  afterAll(async () => {
    await moduleRef.close();
    await ds.destroy();
  });

  afterEach(() => jest.restoreAllMocks());

  describe('freeze', () => {
    it('streams one set of more items than the root worker starts for, storing the bytes and root the rules give', async () => {
      const { ref } = await insertSet(WORKER_MIN_LEAVES + 1000, 1500);
      const evaluation = { kind: 'held-out' as const, fraction: 0.25 };
      const state = await requestRun([ref], evaluation);
      const now = new Date();
      await moduleRef.get(FreezeSnapshotUseCase).freeze(state, now);

      const frozen = (await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot!;
      const { manifest, bytes } = await expected(state.runId!, now, [ref], evaluation);
      const stored = await storage.getBuffer('artifacts', frozen.snapshot.manifest.key);
      expect(stored.toString('utf8')).toBe(bytes);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(frozen.snapshot.manifest.sha256);
      expect(frozen.snapshot).toEqual({ ...snapshotCounts(manifest), manifest: frozen.snapshot.manifest });
      expect(manifest.excluded.map((e) => e.reason)).toEqual(expect.arrayContaining(['consent-withdrawn', 'subject-erased', 'unknown-subject']));
    });

    it('takes the root kept with the set when every subject of its one set may be used (no root worker), the root the rules give', async () => {
      const { ref } = await insertSet(WORKER_MIN_LEAVES + 1000, 1500, [permit]);
      const evaluation = { kind: 'held-out' as const, fraction: 0.25 };
      const state = await requestRun([ref], evaluation);
      const started = jest.spyOn(MerkleRootWorker.prototype, 'add');
      const now = new Date();
      await moduleRef.get(FreezeSnapshotUseCase).freeze(state, now);

      const frozen = (await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot!;
      const { manifest, bytes } = await expected(state.runId!, now, [ref], evaluation);
      expect(manifest.excluded).toEqual([]);
      expect(frozen.snapshot.merkleRoot).toBe(manifest.merkleRoot);
      expect((await storage.getBuffer('artifacts', frozen.snapshot.manifest.key)).toString('utf8')).toBe(bytes);
      expect(started).not.toHaveBeenCalled();
    });

    it('takes the root from the leaves for a set kept before roots were kept with sets', async () => {
      const { ref } = await insertSet(300, 40, [permit]);
      await ds.query('UPDATE trainer_annotation_sets SET items_merkle_root = NULL WHERE set_id = $1', [ref.setId]);
      const evaluation = { kind: 'held-out' as const, fraction: 0.25 };
      const state = await requestRun([ref], evaluation);
      const now = new Date();
      await moduleRef.get(FreezeSnapshotUseCase).freeze(state, now);

      const frozen = (await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot!;
      const { manifest } = await expected(state.runId!, now, [ref], evaluation);
      expect(frozen.snapshot.merkleRoot).toBe(manifest.merkleRoot);
    });

    it('merges sets read whole (two training sets, one also an evaluation set, and another) as the rules give', async () => {
      const a = await insertSet(300, 40);
      const b = await insertSet(200, 30);
      const c = await insertSet(100, 10);
      const evaluation = { kind: 'sets' as const, annotationSets: [c.ref, b.ref] };
      const state = await requestRun([a.ref, b.ref], evaluation);
      const now = new Date();
      await moduleRef.get(FreezeSnapshotUseCase).freeze(state, now);

      const frozen = (await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot!;
      const { manifest, bytes } = await expected(state.runId!, now, [a.ref, b.ref], evaluation);
      expect((await storage.getBuffer('artifacts', frozen.snapshot.manifest.key)).toString('utf8')).toBe(bytes);
      expect(frozen.snapshot.merkleRoot).toBe(manifest.merkleRoot);
      expect(manifest.excluded.map((e) => e.reason)).toContain('subject-in-evaluation-set');
    });

    it('fails on a bad row mid-stream leaving nothing: no manifest stored, no event, the root worker stopped, the connection reusable', async () => {
      const { ref, subjectIds } = await insertSet(WORKER_MIN_LEAVES + 1000, 1500);
      // The 6,000th item's leaf cut to 31 bytes.
      const [{ item_id: spoiled, leaf_sha256: good }]: { item_id: string; leaf_sha256: Buffer }[] = await ds.query(
        'SELECT item_id, leaf_sha256 FROM trainer_set_items WHERE set_id = $1 ORDER BY item_id OFFSET 6000 LIMIT 1',
        [ref.setId],
      );
      await ds.query('UPDATE trainer_set_items SET leaf_sha256 = $3 WHERE set_id = $1 AND item_id = $2', [ref.setId, spoiled, good.subarray(0, 31)]);
      const state = await requestRun([ref], { kind: 'held-out', fraction: 0.25 });
      const put = jest.spyOn(storage, 'putStream');
      const stop = jest.spyOn(MerkleRootWorker.prototype, 'stop');

      const err = await moduleRef
        .get(FreezeSnapshotUseCase)
        .freeze(state, new Date())
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(err?.message).toBe(`item ${spoiled} of set ${ref.setId} has no valid leaf hash`);
      // It names the item and the set, nobody's subject id.
      expect(subjectIds.some((s) => err!.message.includes(s))).toBe(false);
      expect(put).not.toHaveBeenCalled();
      expect(stop).toHaveBeenCalled();
      expect((await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot).toBeNull();

      // The same run freezes once the row is mended, on the pool's connections as they were left.
      await ds.query('UPDATE trainer_set_items SET leaf_sha256 = $3 WHERE set_id = $1 AND item_id = $2', [ref.setId, spoiled, good]);
      jest.restoreAllMocks();
      await moduleRef.get(FreezeSnapshotUseCase).freeze(state, new Date());
      expect((await moduleRef.get(RunStreams).load(state.runId!)).state.snapshot).not.toBeNull();
    });
  });
});
