import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import type { Answer, AnnotationSetRef, StoredFile, TrainingSnapshotFrozen } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import type { ObjectStorage } from '@trellis/storage';
import { consentStates } from '../consent/subject-consents.projection';
import { RunState } from '../runs/run.decider';
import { findRun } from '../runs/run.queries';
import { RunStreams } from '../runs/run.streams';
import { TRAINER_SERVICE_ACTOR } from '../trainer.actors';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_STORAGE } from '../trainer.tokens';
import { merkleRootOfLeafBuffer } from './merkle-root';
import {
  freezeRetrainSnapshot,
  manifestStream,
  selectSnapshot,
  SetItemRow,
  SnapshotManifest,
  SnapshotSelection,
  snapshotCounts,
  supervisedPairs,
  withMerkleRoot,
} from './snapshot';

export const SNAPSHOT_PREFIX = 'training-snapshots/';

/**
 * The items of the sets with their hashes (not their answers: a snapshot names what it holds by
 * hash), each set in item order. One query per set, so each reads its primary key in order:
 * sorting 100,000 rows instead (what the planner picks while the table's statistics still miss
 * a new set) spills to disk and holds back the first row until the last is read. The leaf hash
 * comes as hex, which pg hands over as it is, where a bytea is decoded into a Buffer per row.
 */
export async function setItems(db: QueryRunner, sets: AnnotationSetRef[]): Promise<SetItemRow[]> {
  const out: SetItemRow[] = [];
  // For this transaction only; a failed query rolls it back, setting included.
  await db.query('SET LOCAL enable_sort = off');
  for (const { setId } of sets) {
    const rows: { item_id: string; subject_id: string; image_key: string; image_sha256: string; text_sha256: string; leaf_sha256: string }[] = await db.query(
      `SELECT item_id, subject_id, image_key, image_sha256, text_sha256, encode(leaf_sha256, 'hex') AS leaf_sha256
       FROM trainer_set_items WHERE set_id = $1 ORDER BY item_id`,
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

/** The supervised pairs of each item the worker trains on, by `<setId>/<itemId>`, from the answers the sets hold. */
export async function itemPairs(db: DataSource, items: { setId: string; itemId: string }[]): Promise<Record<string, { prompt: string; answer: string }[]>> {
  const rows: { set_id: string; item_id: string; answer: Answer }[] = await db.query(
    'SELECT set_id, item_id, answer FROM trainer_set_items WHERE (set_id, item_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))',
    [items.map((i) => i.setId), items.map((i) => i.itemId)],
  );
  return Object.fromEntries(rows.map((r) => [`${r.set_id}/${r.item_id}`, supervisedPairs(r.answer)]));
}

/** Optimizer steps of a run: as requested, or the epochs over the training pairs. */
export function plannedSteps(
  manifest: SnapshotManifest,
  h: { steps: number | null; epochs: number | null; batchSize: number; gradAccumulation: number },
  pairsPerItem: Map<string, number>,
): number {
  if (h.steps !== null) return h.steps;
  const pairs = manifest.items.filter((i) => i.split === 'train').reduce((n, i) => n + (pairsPerItem.get(`${i.setId}/${i.itemId}`) ?? 1), 0);
  return Math.max(1, h.epochs! * Math.ceil(pairs / (h.batchSize * h.gradAccumulation)));
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
   */
  async freeze(state: RunState, now: Date): Promise<void> {
    const request = state.request!;
    const selection = await withTransaction(this.dataSource, async (tx): Promise<SnapshotSelection | SnapshotManifest> => {
      if (request.replaces) return this.retrainManifest(tx, request.runId, request.replaces, now);
      const items = await setItems(tx, request.annotationSets);
      const evalItems = request.evaluation.kind === 'sets' ? await setItems(tx, request.evaluation.annotationSets) : [];
      const consent = await consentStates(
        tx,
        [...items, ...evalItems].map((i) => i.subjectId),
      );
      return selectSnapshot({
        runId: request.runId,
        purpose: request.purpose,
        now,
        seed: request.hyperparameters.seed,
        annotationSets: request.annotationSets,
        items,
        evaluation: request.evaluation.kind === 'sets' ? { ...request.evaluation, items: evalItems } : request.evaluation,
        consent,
      });
    });
    // A retrain's manifest comes whole; a new snapshot's root is taken on a worker thread while
    // its manifest, the bulk of which precedes the root, is written and hashed.
    const unrooted = 'leaves' in selection ? selection.manifest : selection;
    const root = 'leaves' in selection ? merkleRootOfLeafBuffer(selection.leaves) : Promise.resolve(selection.merkleRoot);
    // Settled in the stream, or here when the stream fails before reaching it.
    root.catch(() => undefined);
    const stored = await this.storage.putStream('artifacts', Readable.from(manifestStream(unrooted, root)), {
      prefix: SNAPSHOT_PREFIX,
      contentType: 'application/json',
    });
    const manifest = withMerkleRoot(unrooted, await root);
    const file: StoredFile = { name: 'snapshot.json', key: stored.key, sha256: stored.sha256, size: stored.size };
    const counts = snapshotCounts(manifest);
    const data: TrainingSnapshotFrozen['data'] = {
      runId: request.runId,
      snapshot: { manifest: file, ...counts },
      totalSteps: plannedSteps(manifest, request.hyperparameters, await this.pairCounts(request.hyperparameters.steps, manifest)),
      replaces: manifest.replaces
        ? {
            runId: manifest.replaces.runId,
            snapshotSha256: manifest.replaces.snapshotSha256,
            removedItems: manifest.replaces.removedItems,
            removedSubjects: manifest.replaces.removedSubjects,
          }
        : null,
    };
    await withTransaction(this.dataSource, (tx) => this.streams.handle(tx, request.runId, { type: 'FreezeSnapshot', data }, TRAINER_SERVICE_ACTOR));
  }

  /** Pairs per training item, needed only to turn epochs into steps. */
  private async pairCounts(steps: number | null, manifest: SnapshotManifest): Promise<Map<string, number>> {
    if (steps !== null) return new Map();
    const pairs = await itemPairs(
      this.dataSource,
      manifest.items.filter((i) => i.split === 'train'),
    );
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
