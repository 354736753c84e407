import type { QueryRunner } from 'typeorm';
import { z } from 'zod';
import {
  ANNOTATION_LOG,
  DatasetManifestV1,
  EventEnvelope,
  INGESTION_LOG,
  readAnnotationSetArtifact,
  REGISTRY_LOG,
  TRAINER_LOG,
  type AnnotationSetPublished,
  type DatasetVersionPublished,
  type TrainingSnapshotFrozen,
} from '@trellis/contracts';
import type { EventHandler } from '@trellis/messaging';
import { getVerifiedBuffer, type ObjectStorage } from '@trellis/storage';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { annotationChanges, GraphChange, ingestionChanges, registryChanges, SnapshotContents, trainerChanges } from './graph-changes';
import { writeGraphChanges } from './graph.writer';

const SnapshotManifest = z.object({
  annotationSets: z.array(z.object({ setId: z.string().uuid() })),
  items: z.array(z.object({ itemId: z.string().uuid(), subjectId: z.string().uuid(), split: z.string() })),
});

/** Reads an artifact an event names, checked against the hash the event carries. */
async function artifact(storage: ObjectStorage, key: string, sha256: string, what: string): Promise<Buffer> {
  const bytes = await getVerifiedBuffer(storage, 'artifacts', key, sha256);
  if (!bytes) throw new LineageException(LineageErrorCode.ArtifactCorrupt, `${what}: the stored artifact does not match its SHA-256`);
  return bytes;
}

/**
 * The lineage service's consumers, one per context (consumer group `lineage`): each event becomes
 * its graph changes, written in the inbox's transaction. Events naming an artifact (a dataset
 * version's manifest, an annotation set, a snapshot manifest) have it read here, so the graph
 * reaches every asset. The storage is bound when LineageModule initializes.
 */
abstract class LineageHandler implements EventHandler {
  readonly consumer = 'lineage';
  abstract readonly context: string;
  private storageRef?: ObjectStorage;

  bind(storage: ObjectStorage): this {
    this.storageRef = storage;
    return this;
  }

  protected get storage(): ObjectStorage {
    if (!this.storageRef) throw new Error('the lineage handler received an event before LineageModule initialized');
    return this.storageRef;
  }

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    await writeGraphChanges(tx, envelope, await this.changes(envelope));
  }

  protected abstract changes(envelope: EventEnvelope): Promise<GraphChange[]>;
}

export class LineageIngestionHandler extends LineageHandler {
  readonly context = INGESTION_LOG;

  protected async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    if (envelope.type !== 'DatasetVersionPublished') return ingestionChanges(envelope);
    const d = envelope.data as DatasetVersionPublished['data'];
    const bytes = await artifact(this.storage, d.manifest.key, d.manifest.sha256, `dataset ${d.datasetId} version ${d.version}`);
    return ingestionChanges(envelope, DatasetManifestV1.parse(JSON.parse(bytes.toString('utf8'))));
  }
}

export class LineageAnnotationHandler extends LineageHandler {
  readonly context = ANNOTATION_LOG;

  protected async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    if (envelope.type !== 'AnnotationSetPublished') return [];
    const d = envelope.data as AnnotationSetPublished['data'];
    const read = readAnnotationSetArtifact(await this.storage.getBuffer('artifacts', d.artifact.key), d.artifact.sha256);
    if ('problem' in read) throw new LineageException(LineageErrorCode.ArtifactCorrupt, `annotation set ${d.setId}: ${read.problem}`);
    return annotationChanges(envelope, read.items);
  }
}

export class LineageTrainerHandler extends LineageHandler {
  readonly context = TRAINER_LOG;

  protected async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    if (envelope.type !== 'TrainingSnapshotFrozen') return trainerChanges(envelope);
    const d = envelope.data as TrainingSnapshotFrozen['data'];
    const bytes = await artifact(this.storage, d.snapshot.manifest.key, d.snapshot.manifest.sha256, `the snapshot of run ${d.runId}`);
    const contents: SnapshotContents = SnapshotManifest.parse(JSON.parse(bytes.toString('utf8')));
    return trainerChanges(envelope, contents);
  }
}

export class LineageRegistryHandler extends LineageHandler {
  readonly context = REGISTRY_LOG;

  protected async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    return registryChanges(envelope);
  }
}
