import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { PoolClient, Query } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import type { Answer, AnnotationSetRef, StoredFile, SubjectConsentState, TrainingSnapshotFrozen } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import type { ObjectStorage } from '@trellis/storage';
import { consentStates, subjectsOfSets } from '../consent/subject-consents.projection';
import { RunState } from '../runs/run.decider';
import { findRun } from '../runs/run.queries';
import { RunStreams } from '../runs/run.streams';
import { TRAINER_SERVICE_ACTOR } from '../trainer.actors';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_STORAGE } from '../trainer.tokens';
import { MerkleRootWorker, merkleRootOfLeafBuffer, WORKER_MIN_LEAVES } from './merkle-root';
import { keptItemsRoot } from '../annotation-sets/annotation-set.repository';
import { SetItemsCopyReader, setItemsCopySql } from './set-items-copy';
import {
  freezeRetrainSnapshot,
  isSplit,
  manifestStream,
  placeItems,
  planSnapshot,
  SetItemRow,
  SubjectDecision,
  SnapshotCounts,
  SnapshotHead,
  SnapshotManifest,
  snapshotCounts,
  SnapshotWriter,
  supervisedPairs,
} from './snapshot';

export const SNAPSHOT_PREFIX = 'training-snapshots/';

/**
 * Where a freeze's time went, in milliseconds (bench:trainer prints it): `laps` follow one
 * another and add up to the freeze; `overlapping` ran beside them (another connection, the
 * root's worker thread), each from its start until it was done.
 */
export interface FreezePhases {
  laps: Record<string, number>;
  overlapping: Record<string, number>;
}

class PhaseClock implements FreezePhases {
  readonly laps: Record<string, number> = {};
  readonly overlapping: Record<string, number> = {};
  private last = performance.now();

  lap(phase: string): void {
    const t = performance.now();
    this.laps[phase] = (this.laps[phase] ?? 0) + (t - this.last);
    this.last = t;
  }

  /** Times `work` from now until it settles, beside the laps. */
  beside<T>(phase: string, work: Promise<T>): Promise<T> {
    const start = performance.now();
    const done = () => (this.overlapping[phase] = performance.now() - start);
    work.then(done, done);
    return work;
  }
}

/** A set's items in item order (setItems). */
const SET_ITEMS_SQL = `SELECT item_id, subject_id, image_key, image_sha256, text_sha256, encode(leaf_sha256, 'hex') AS leaf_sha256
  FROM trainer_set_items WHERE set_id = $1 ORDER BY item_id`;

/**
 * The items of the sets with their hashes (not their answers: a snapshot names what it holds by
 * hash), each set in item order. One query per set, so each reads its primary key in order:
 * sorting 100,000 rows instead (what the planner picks while the table's statistics still miss
 * a new set) spills to disk and holds back the first row until the last is read. The leaf hash
 * comes as hex, which pg hands over as it is, where a bytea is decoded into a Buffer per row.
 * Each row is copied into a plain object: reading the properties of the ones pg builds costs
 * more than the copy.
 */
export async function setItems(db: QueryRunner, sets: readonly AnnotationSetRef[]): Promise<SetItemRow[]> {
  const out: SetItemRow[] = [];
  // For this transaction only; a failed query rolls it back, setting included.
  await db.query('SET LOCAL enable_sort = off');
  for (const { setId } of sets) {
    const rows: { item_id: string; subject_id: string; image_key: string; image_sha256: string; text_sha256: string; leaf_sha256: string }[] = await db.query(
      SET_ITEMS_SQL,
      [setId],
    );
    for (const r of rows) {
      out.push({
        setId,
        itemId: r.item_id,
        subjectId: r.subject_id,
        imageKey: r.image_key,
        imageSha256: r.image_sha256,
        textSha256: r.text_sha256,
        leafSha256: r.leaf_sha256,
      });
    }
  }
  await db.query('SET LOCAL enable_sort = on');
  return out;
}

/**
 * pg's Query for a binary COPY, handing its data to `reader` as pg reads it (handleCopyData is
 * what pg calls for each CopyData message of the active query; pg's own Query ignores them). The
 * first error thrown stops the data, and the query fails with it once the COPY has ended (the
 * connection is then ready for the rollback).
 */
class CopyOutQuery extends Query {
  failure: Error | null = null;

  constructor(
    text: string,
    private readonly reader: { push(data: Buffer): void },
  ) {
    super({ text });
  }

  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.failure !== null) return;
    try {
      this.reader.push(msg.chunk);
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    }
  }
}

/**
 * A binary COPY's data kept until its reader is known, then handed on as it comes. pg reuses the
 * buffer a message was read from, so what is kept is copied, into one growing buffer (the rows of
 * a 100,000-item set are some 29 MB: one copy each, no object per row).
 */
class HeldCopyData {
  private held = Buffer.allocUnsafe(1 << 16);
  private heldBytes = 0;
  private reader: { push(data: Buffer): void } | null = null;
  private dropped = false;

  push(data: Buffer): void {
    if (this.dropped) return;
    if (this.reader) return this.reader.push(data);
    if (this.heldBytes + data.length > this.held.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.held.length, this.heldBytes + data.length));
      this.held.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    // TypedArray set, not Buffer.copy: for a row's few hundred bytes the call is what costs.
    this.held.set(data, this.heldBytes);
    this.heldBytes += data.length;
  }

  /** Hands what is held to `reader` (whole rows: each message is), and what comes after as it comes. */
  handTo(reader: { push(data: Buffer): void }): void {
    const held = this.held.subarray(0, this.heldBytes);
    this.held = Buffer.alloc(0);
    this.heldBytes = 0;
    if (held.length > 0) reader.push(held);
    this.reader = reader;
  }

  /** Nothing more is wanted: what is held and what comes is let go. */
  drop(): void {
    this.dropped = true;
    this.held = Buffer.alloc(0);
  }
}

/**
 * The items of one set in item order, as PostgreSQL's binary COPY of setItemsCopySql, started
 * before the freeze knows its subjects' decisions: PostgreSQL reads and sends the rows on a
 * connection of their own while the freeze's transaction reads the subjects' consent and judges
 * it (together half a freeze, and there is a second core). The rows wait (HeldCopyData) until
 * `placeInto` gives them their reader, which writes each item's manifest JSON from the row's
 * bytes (SetItemsCopyReader): rows read whole are all alive until the last arrives, rows read as
 * text are six strings each, and at 100,000 items either costs more than the rest of the freeze.
 * Reading outside the freeze's transaction reads the same rows: a set's items are written once,
 * with the set, and never changed. Must not be called while holding a transaction's connection
 * (it takes a second one from the pool); the connection goes back when the COPY ends, whether
 * or not anybody placed its rows (the pool refuses a second connection inside a transaction).
 */
export class SetItemsCopy {
  private readonly data = new HeldCopyData();
  private readonly done: Promise<void>;

  private constructor(
    private readonly setId: string,
    runner: QueryRunner,
  ) {
    this.done = this.run(runner);
    // Awaited by placeInto; unread when the freeze fails first (abandon).
    this.done.catch(() => undefined);
  }

  static start(dataSource: DataSource, setId: string): SetItemsCopy {
    return new SetItemsCopy(setId, dataSource.createQueryRunner());
  }

  private async run(runner: QueryRunner): Promise<void> {
    try {
      const client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      // The planner sorts 100,000 rows (spilling to disk) while a new set's statistics are
      // missing; the primary key already holds them in item order. For this transaction only.
      await runner.query('SET LOCAL enable_sort = off');
      const query = new CopyOutQuery(setItemsCopySql(this.setId), this.data);
      await new Promise<void>((resolve, reject) => {
        client.query(query);
        query.on('error', reject);
        query.on('end', () => (query.failure !== null ? reject(query.failure) : resolve()));
      });
      await runner.commitTransaction();
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  /** Places the rows into `writer` by their subjects' decisions; answers how many there were. */
  async placeInto(decisions: Map<string, SubjectDecision>, writer: SnapshotWriter): Promise<number> {
    const reader = new SetItemsCopyReader(this.setId, decisions, writer);
    this.data.handTo(reader);
    await this.done;
    return reader.end();
  }

  /** The freeze failed before placing the rows: they are let go as they come. */
  abandon(): void {
    this.data.drop();
  }
}

/** How many items the sets hold together, as recorded when each arrived. */
async function itemCount(db: QueryRunner, sets: readonly AnnotationSetRef[]): Promise<number> {
  const rows: { n: number }[] = await db.query('SELECT coalesce(sum(item_count), 0)::int AS n FROM trainer_annotation_sets WHERE set_id = ANY($1::uuid[])', [
    sets.map((s) => s.setId),
  ]);
  return rows[0].n;
}

/** The supervised pairs of each item the worker trains on, by `<setId>/<itemId>`, from the answers the sets hold. */
export async function itemPairs(
  db: DataSource,
  items: readonly { setId: string; itemId: string }[],
): Promise<Record<string, { prompt: string; answer: string }[]>> {
  const rows: { set_id: string; item_id: string; answer: Answer }[] = await db.query(
    'SELECT set_id, item_id, answer FROM trainer_set_items WHERE (set_id, item_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))',
    [items.map((i) => i.setId), items.map((i) => i.itemId)],
  );
  return Object.fromEntries(rows.map((r) => [`${r.set_id}/${r.item_id}`, supervisedPairs(r.answer)]));
}

/** Optimizer steps of a run: as requested, or the epochs over the training pairs. */
export function plannedSteps(
  trainItems: readonly { setId: string; itemId: string }[],
  h: { steps: number | null; epochs: number | null; batchSize: number; gradAccumulation: number },
  pairsPerItem: Map<string, number>,
): number {
  if (h.steps !== null) return h.steps;
  const pairs = trainItems.reduce((n, i) => n + (pairsPerItem.get(`${i.setId}/${i.itemId}`) ?? 1), 0);
  return Math.max(1, h.epochs! * Math.ceil(pairs / (h.batchSize * h.gradAccumulation)));
}

/** A snapshot ready to store: its bytes (waiting for the root where it goes), its root, and what the event says of it. */
interface PreparedSnapshot {
  bytes: AsyncGenerator<Buffer>;
  root: Promise<string>;
  counts: SnapshotCounts;
  /** The training items, when the run counts in epochs and needs them for its steps. */
  trainItems: readonly { setId: string; itemId: string }[] | null;
  replaces: TrainingSnapshotFrozen['data']['replaces'];
}

@Injectable()
export class FreezeSnapshotUseCase {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RunStreams,
    @Inject(TRAINER_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  /**
   * Freezes the run's snapshot now: the consent state is read, the manifest stored (content
   * addressed) and TrainingSnapshotFrozen appended, in that order, so an event never names a
   * manifest that is not stored. A run whose snapshot leaves nothing to train on ends failed.
   * Answers how long each phase took (bench:trainer prints them).
   */
  async freeze(state: RunState, now: Date): Promise<FreezePhases> {
    const request = state.request!;
    const clock = new PhaseClock();
    const prepared = request.replaces ? await this.prepareRetrain(request.runId, request.replaces, now, clock) : await this.prepareNew(request, now, clock);
    // Settled in the stream, or here when the stream fails before reaching it.
    prepared.root.catch(() => undefined);
    const stored = await this.storage.putStream('artifacts', Readable.from(prepared.bytes), {
      prefix: SNAPSHOT_PREFIX,
      contentType: 'application/json',
    });
    clock.lap('store the manifest (SHA-256, write, fsync; waits for the root)');
    const file: StoredFile = { name: 'snapshot.json', key: stored.key, sha256: stored.sha256, size: stored.size };
    const h = request.hyperparameters;
    const data: TrainingSnapshotFrozen['data'] = {
      runId: request.runId,
      snapshot: { manifest: file, merkleRoot: await prepared.root, ...prepared.counts },
      totalSteps: plannedSteps(prepared.trainItems ?? [], h, h.steps === null ? await this.pairCounts(prepared.trainItems ?? []) : new Map()),
      replaces: prepared.replaces,
    };
    await withTransaction(this.dataSource, (tx) => this.streams.handle(tx, request.runId, { type: 'FreezeSnapshot', data }, TRAINER_SERVICE_ACTOR));
    clock.lap('append TrainingSnapshotFrozen');
    return { laps: clock.laps, overlapping: clock.overlapping };
  }

  /**
   * A new snapshot. Its subjects and their consent are read first (after `now`, so a withdrawal
   * committed before it is seen), and the rules applied to them; then the items are placed as
   * they are read. One set (the usual run, held out by fraction) is streamed row by row, already
   * in manifest order, its COPY started beside the consent read (SetItemsCopy); several are read
   * whole and merged. A snapshot that keeps every item of its one set has the root kept with the
   * set (keepAnnotationSet); otherwise, with many items, the root's worker thread is started once
   * the subjects are judged and fed each piece of leaves as it is written.
   */
  private async prepareNew(request: NonNullable<RunState['request']>, now: Date, clock: PhaseClock): Promise<PreparedSnapshot> {
    const evaluation = request.evaluation;
    const evalSets = evaluation.kind === 'sets' ? evaluation.annotationSets : [];
    const allSets = [...request.annotationSets, ...evalSets];
    const head: SnapshotHead = {
      runId: request.runId,
      purpose: request.purpose,
      now,
      seed: request.hyperparameters.seed,
      annotationSets: request.annotationSets,
      evaluationSets: evalSets,
      heldOutFraction: evaluation.kind === 'held-out' ? evaluation.fraction : null,
    };
    let rootWorker: MerkleRootWorker | undefined;
    const copy = request.annotationSets.length === 1 && evalSets.length === 0 ? SetItemsCopy.start(this.dataSource, request.annotationSets[0].setId) : null;
    try {
      const { assembled, keptRoot } = await withTransaction(this.dataSource, async (tx) => {
        // One set: its row gives the count and the root kept with it, in one read.
        const kept = copy ? await keptItemsRoot(tx, request.annotationSets[0].setId) : null;
        const expectedItems = kept ? kept.itemCount : await itemCount(tx, allSets);
        const subjects = await subjectsOfSets(
          tx,
          request.annotationSets.map((s) => s.setId),
          evalSets.map((s) => s.setId),
        );
        clock.lap('read subjects and consent');
        const plan = planSnapshot({
          purpose: request.purpose,
          now,
          seed: request.hyperparameters.seed,
          evaluation: evaluation.kind === 'held-out' ? evaluation : { kind: 'sets' },
          consentOf: (subjectId) => {
            const state = subjects.consent.get(subjectId);
            return state === undefined ? undefined : (JSON.parse(state) as SubjectConsentState);
          },
          trainingSubjects: subjects.training,
          evaluationSubjects: subjects.evaluation,
        });
        clock.lap('judge consent, split subjects');
        // Every subject of the one set may be used: the snapshot keeps every item, in the set's
        // item order, so its root is the one kept with the set (checked against the count below).
        const everyItem = kept?.root != null && [...plan.training.values()].every(isSplit) ? kept : null;
        if (!everyItem && expectedItems >= WORKER_MIN_LEAVES) rootWorker = new MerkleRootWorker();
        const worker = rootWorker;
        const writer = new SnapshotWriter(head, {
          listTrainItems: request.hyperparameters.steps === null,
          expectedItems,
          onLeaves: worker && ((leaves) => worker.add(leaves)),
        });
        if (copy) await copy.placeInto(plan.training, writer);
        else {
          placeItems(await setItems(tx, request.annotationSets), await setItems(tx, evalSets), plan, writer);
        }
        clock.lap('read and place items, write their JSON');
        const finished = writer.finish();
        return { assembled: finished, keptRoot: everyItem && finished.counts.includedItems === everyItem.itemCount ? everyItem.root : null };
      });
      const root = clock.beside(
        'Merkle root, from the last item on',
        keptRoot !== null ? Promise.resolve(keptRoot) : rootWorker ? rootWorker.root() : merkleRootOfLeafBuffer(assembled.leaves, WORKER_MIN_LEAVES),
      );
      return { bytes: manifestStream(assembled, root), root, counts: assembled.counts, trainItems: assembled.trainItems, replaces: null };
    } catch (err) {
      copy?.abandon();
      rootWorker?.stop();
      throw err;
    }
  }

  /** A retrain's snapshot: the replaced one less the subjects who withdrew or were erased since. */
  private async prepareRetrain(runId: string, replacedId: string, now: Date, clock: PhaseClock): Promise<PreparedSnapshot> {
    const manifest = await withTransaction(this.dataSource, (tx) => this.retrainManifest(tx, runId, replacedId, now));
    clock.lap('read the replaced manifest and consent, place items');
    const { merkleRoot, ...counts } = snapshotCounts(manifest);
    const r = manifest.replaces!;
    return {
      bytes: manifestStream(manifest, Promise.resolve(merkleRoot)),
      root: Promise.resolve(merkleRoot),
      counts,
      trainItems: manifest.items.filter((i) => i.split === 'train'),
      replaces: { runId: r.runId, snapshotSha256: r.snapshotSha256, removedItems: r.removedItems, removedSubjects: r.removedSubjects },
    };
  }

  /** Pairs per training item, needed only to turn epochs into steps. */
  private async pairCounts(trainItems: readonly { setId: string; itemId: string }[]): Promise<Map<string, number>> {
    const pairs = await itemPairs(this.dataSource, trainItems);
    return new Map(Object.entries(pairs).map(([k, v]) => [k, v.length]));
  }

  /** A stored manifest, checked against the hash its event carries. */
  async readManifest(file: StoredFile): Promise<SnapshotManifest> {
    const bytes = await this.storage.getBuffer('artifacts', file.key);
    if (createHash('sha256').update(bytes).digest('hex') !== file.sha256) {
      throw new TrainerException(TrainerErrorCode.ArtifactCorrupt, `snapshot manifest ${file.key} does not match its recorded SHA-256`);
    }
    return JSON.parse(bytes.toString('utf8')) as SnapshotManifest;
  }

  private async retrainManifest(tx: QueryRunner, runId: string, replacedId: string, now: Date): Promise<SnapshotManifest> {
    const replaced = await findRun(tx, replacedId);
    if (!replaced?.snapshot) throw new TrainerException(TrainerErrorCode.RunNotFinished, `the replaced run ${replacedId} has no frozen snapshot`);
    const old = await this.readManifest(replaced.snapshot.manifest);
    const consent = await consentStates(
      tx,
      old.items.map((i) => i.subjectId),
    );
    return freezeRetrainSnapshot({ runId, now, replaced: old, replacedSha256: replaced.snapshot.manifest.sha256, consent });
  }
}
