import type { QueryRunner } from 'typeorm';
import { z } from 'zod';
import {
  ANNOTATION_LOG,
  DatasetManifestV1,
  EventEnvelope,
  INGESTION_LOG,
  OPENLINEAGE_IMPORT_LOG,
  OPENLINEAGE_LOG,
  type ExternalRunEventImported,
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
import { ExternalRunEvent } from '../openlineage/external-run-event';
import {
  annotationChanges,
  GraphChange,
  importedOpenLineageChanges,
  ingestionChanges,
  registryChanges,
  SnapshotContents,
  trainerChanges,
  trainerOpenLineageChanges,
} from './graph-changes';
import { writeGraphChanges } from './graph.writer';

const SnapshotManifest = z.object({
  annotationSets: z.array(z.object({ setId: z.string().uuid() })),
  items: z.array(z.object({ itemId: z.string().uuid(), subjectId: z.string().uuid(), split: z.string() })),
});

/**
 * Reads an artifact an event names and parses it. Live, a missing or altered artifact fails the
 * event (retried, then dead-lettered: the graph never silently lacks what the event implies); a
 * rebuild instead notes the problem, writes the event's changes without the artifact and keeps
 * what the live graph recorded from it.
 */
export type ArtifactReader = <T>(key: string, sha256: string, what: string, parse: (bytes: Buffer) => T | { problem: string }) => Promise<T | undefined>;

/** The live reader: any problem is a LineageException naming the event's artifact, never its content. */
export function strictArtifactReader(storage: ObjectStorage): ArtifactReader {
  return async (key, sha256, what, parse) => {
    const read = await readArtifact(storage, key, sha256, parse);
    if (typeof read === 'object' && read !== null && 'problem' in read)
      throw new LineageException(LineageErrorCode.ArtifactCorrupt, `${what}: ${read.problem}`);
    return read as never;
  };
}

/** A reader that notes each problem (`unreadable`) and reads nothing in its place. */
export function lenientArtifactReader(storage: ObjectStorage, unreadable: (problem: string) => void): ArtifactReader {
  return async (key, sha256, what, parse) => {
    const read = await readArtifact(storage, key, sha256, parse);
    if (typeof read === 'object' && read !== null && 'problem' in read) {
      unreadable(`${what}: ${read.problem}`);
      return undefined;
    }
    return read as never;
  };
}

async function readArtifact<T>(
  storage: ObjectStorage,
  key: string,
  sha256: string,
  parse: (bytes: Buffer) => T | { problem: string },
): Promise<T | { problem: string }> {
  let bytes: Buffer | null;
  try {
    bytes = await getVerifiedBuffer(storage, 'artifacts', key, sha256);
  } catch {
    return { problem: 'the artifact cannot be read from the object storage' };
  }
  if (!bytes) return { problem: 'the stored artifact does not match its SHA-256' };
  try {
    return parse(bytes);
  } catch {
    return { problem: 'the artifact is not the document its event names' };
  }
}

const json = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

/**
 * The lineage service's consumers, one per context (consumer group `lineage`): each event becomes
 * its graph changes, written in the inbox's transaction. Events naming an artifact (a dataset
 * version's manifest, an annotation set, a snapshot manifest) have it read here, so the graph
 * reaches every asset. The storage is bound when LineageModule initializes.
 */
export abstract class LineageHandler implements EventHandler {
  readonly consumer = 'lineage';
  abstract readonly context: string;
  private storageRef?: ObjectStorage;

  bind(storage: ObjectStorage): this {
    this.storageRef = storage;
    return this;
  }

  get storage(): ObjectStorage {
    if (!this.storageRef) throw new Error('the lineage handler received an event before LineageModule initialized');
    return this.storageRef;
  }

  async handle(envelope: EventEnvelope, tx: QueryRunner): Promise<void> {
    await writeGraphChanges(tx, envelope, await this.changes(envelope, strictArtifactReader(this.storage)));
  }

  abstract changes(envelope: EventEnvelope, read: ArtifactReader): Promise<GraphChange[]>;
}

export class LineageIngestionHandler extends LineageHandler {
  readonly context = INGESTION_LOG;

  async changes(envelope: EventEnvelope, read: ArtifactReader): Promise<GraphChange[]> {
    if (envelope.type !== 'DatasetVersionPublished') return ingestionChanges(envelope);
    const d = envelope.data as DatasetVersionPublished['data'];
    const manifest = await read(d.manifest.key, d.manifest.sha256, `dataset ${d.datasetId} version ${d.version}`, (b) => DatasetManifestV1.parse(json(b)));
    return ingestionChanges(envelope, manifest);
  }
}

export class LineageAnnotationHandler extends LineageHandler {
  readonly context = ANNOTATION_LOG;

  async changes(envelope: EventEnvelope, read: ArtifactReader): Promise<GraphChange[]> {
    if (envelope.type !== 'AnnotationSetPublished') return [];
    const d = envelope.data as AnnotationSetPublished['data'];
    const set = await read(d.artifact.key, d.artifact.sha256, `annotation set ${d.setId}`, (b) => readAnnotationSetArtifact(b, d.artifact.sha256));
    return annotationChanges(envelope, set?.items);
  }
}

export class LineageTrainerHandler extends LineageHandler {
  readonly context = TRAINER_LOG;

  async changes(envelope: EventEnvelope, read: ArtifactReader): Promise<GraphChange[]> {
    if (envelope.type !== 'TrainingSnapshotFrozen') return trainerChanges(envelope);
    const d = envelope.data as TrainingSnapshotFrozen['data'];
    const contents: SnapshotContents | undefined = await read(d.snapshot.manifest.key, d.snapshot.manifest.sha256, `the snapshot of run ${d.runId}`, (b) =>
      SnapshotManifest.parse(json(b)),
    );
    return trainerChanges(envelope, contents);
  }
}

export class LineageRegistryHandler extends LineageHandler {
  readonly context = REGISTRY_LOG;

  async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    return registryChanges(envelope);
  }
}

/** The trainer's OpenLineage run events (topic `trellis.openlineage.v1`, the RunEvent JSON itself). */
export class LineageOpenLineageHandler extends LineageHandler {
  readonly context = OPENLINEAGE_LOG;

  async changes(envelope: EventEnvelope): Promise<GraphChange[]> {
    return trainerOpenLineageChanges(envelope);
  }
}

/** Run events other tools sent to `POST /api/v1/lineage`: the event itself is read from the object storage. */
export class LineageOpenLineageImportHandler extends LineageHandler {
  readonly context = OPENLINEAGE_IMPORT_LOG;

  async changes(envelope: EventEnvelope, read: ArtifactReader): Promise<GraphChange[]> {
    if (envelope.type !== 'ExternalRunEventImported') return [];
    const d = envelope.data as ExternalRunEventImported['data'];
    const event = await read(d.artifact.key, d.artifact.sha256, `the OpenLineage event of run ${d.runId}`, (b) => ExternalRunEvent.parse(json(b)));
    return importedOpenLineageChanges(envelope, event);
  }
}
