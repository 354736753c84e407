import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import {
  Actor,
  AppendContext,
  AssetKind,
  AssetRejected,
  CURATED_MEDIA_TYPES,
  CuratedMediaType,
  INGESTION_LOG,
  ingestionContracts,
  isUuid,
} from '@trellis/contracts';
import { CLOCK, Clock, NEW_ID, NewId, withTransaction } from '@trellis/common';
import { handleCommand, PostgresEventStore } from '@trellis/event-store';
import { contentKey, OBJECT_STORAGE, type ObjectStorage } from '@trellis/storage';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { IngestionConfig } from '../ingestion.config';
import { INGESTION_CONFIG } from '../ingestion.tokens';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { SubjectIdentityRepository } from '../subjects/subject-identity.repository';
import { loadSubject, lockSubject } from '../subjects/subject.store';
import { initialSubjectState } from '../subjects/subject.decider';
import { Admission, AssetCommand, assetDecider, assetStream, DescribedAsset, Upload } from './asset.decider';
import { ASSET_MIME_TYPES, ProcessedAsset, sha256Hex } from './asset-processor';
import { AssetProcessorPort, InlineProcessor } from './processing-pool';
import { AssetValidationError } from './processing';
import { blobReferenced, IntentBlob, UploadIntentRepository } from './upload-intent.repository';

export interface IngestAssetInput {
  /** A subject id, or the external reference it was registered with. */
  subject: string;
  declaredMimeType: string;
  /** Optional; when given it must agree with the declared type. */
  kind?: string;
  describesAssetId?: string | null;
  bytes: Buffer;
}

export interface IngestedAssetView {
  assetId: string;
  subjectId: string;
  duplicate: boolean;
  kind: AssetKind;
  mimeType: string;
  sha256: string;
  size: number;
  width: number | null;
  height: number | null;
}

/** The curated blob's content type without parameters (reports are always UTF-8). */
function curatedMediaType(contentType: string): CuratedMediaType {
  const type = contentType.split(';')[0].trim() as CuratedMediaType;
  if (!CURATED_MEDIA_TYPES.includes(type)) throw new Error(`processing produced a curated blob of an unknown type (${type})`);
  return type;
}

class LostRace extends Error {}
/** Consent changed while the upload was processed: the commit is rolled back, the refusal recorded after clean-up. */
class AdmissionLost extends Error {
  constructor(readonly rejection: AssetRejected) {
    super(rejection.data.message);
  }
}

/** Test hook for the crash test: stop after the blobs are written, before the event. */
const PAUSE_AFTER_BLOBS = 'INGESTION_TEST_PAUSE_AFTER_BLOBS';

/**
 * Ingest one upload: admission (subject, consent, described image), validation and
 * de-identification (processing/), blobs to raw and curated, then the AssetIngested event with
 * its read-model row. A refused upload stores nothing and leaves one AssetRejected event.
 *
 * Crash safety: the blobs an upload will write are announced in an intent row committed first;
 * the event append deletes the intent in the same transaction. If the process dies in between,
 * UploadRecovery finds the stale intent and deletes the blobs (no event exists) or just the
 * intent (the event exists). So there is never a blob without its event nor an event without
 * its blob once recovery has run.
 */
@Injectable()
export class IngestAssetUseCase {
  /**
   * Milliseconds summed over the images ingested by this instance, per stage (bench:ingestion
   * prints them per image): decode, derivative and curate run in processing, then hash, put
   * (the intent row, then every blob) and append (the commit transaction). process is the wait for
   * the processing pool, queueing included; decode, derivative and curate are its parts.
   */
  readonly stageMs = { images: 0, process: 0, decode: 0, derivative: 0, curate: 0, hash: 0, put: 0, append: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly identities: SubjectIdentityRepository,
    private readonly intents: UploadIntentRepository,
    private readonly readModels: IngestionReadModels,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    @Inject(InlineProcessor) private readonly processor: AssetProcessorPort,
    @Optional() @Inject(NEW_ID) private readonly newId: NewId = uuidv4,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = () => new Date(),
  ) {}

  async ingest(input: IngestAssetInput, actor: Actor): Promise<IngestedAssetView> {
    const context: AppendContext = { actor };
    const assetId = this.newId();
    const upload: Upload = { sha256: sha256Hex(input.bytes), size: input.bytes.length, declaredMimeType: String(input.declaredMimeType ?? '') };

    const subjectId = await this.resolveSubject(input.subject);
    const { state: subject } = subjectId ? await loadSubject(this.store, subjectId) : { state: initialSubjectState };
    const kind = ASSET_MIME_TYPES[upload.declaredMimeType] ?? null;
    const describesAssetId = input.describesAssetId ? String(input.describesAssetId).toLowerCase() : null;
    // Only an id is looked up; the decider refuses anything else.
    const describes = describesAssetId && isUuid(describesAssetId) ? await this.describedAsset(describesAssetId) : null;
    const admission: Admission = { subjectId, subject, kind, declaredKind: input.kind, describesAssetId, describes, now: this.clock() };
    // Decided before the bytes are processed or stored: a refused upload leaves only its AssetRejected.
    await this.decide({ type: 'AdmitAsset', assetId, upload, ...admission }, context);

    const existing = await this.findExisting(subjectId!, upload.sha256);
    if (existing) return existing;

    let processed: ProcessedAsset;
    const tProcess = performance.now();
    try {
      // A report is redacted of the subject's own registered identifiers wherever they occur.
      const identity = kind === 'report' ? await this.identities.find(subjectId!) : undefined;
      processed = await this.processor.process(input.bytes, upload.declaredMimeType, this.config, {
        pseudonym: subjectId!,
        knownNames: identity?.name ? [identity.name] : [],
        knownDates: identity?.birthDate ? [identity.birthDate] : [],
        knownIdentifiers: [identity?.mrn, identity?.externalRef].filter((v): v is string => !!v),
      });
    } catch (err) {
      if (err instanceof AssetValidationError)
        return this.reject({ type: 'RejectAsset', assetId, subjectId, upload, code: err.code, message: err.message }, context);
      throw err;
    }

    const tHash = performance.now();
    const prefix = `subjects/${subjectId}/`;
    // Each blob is hashed once, here; the storage takes the hash as its content address.
    const curatedSha256 = sha256Hex(processed.curated.bytes);
    const derivativeSha256 = processed.derivative ? sha256Hex(processed.derivative) : null;
    const deidentifiedSha256 = processed.deidentifiedDicom ? sha256Hex(processed.deidentifiedDicom) : null;
    const planned = {
      raw: { area: 'raw' as const, key: contentKey(prefix, upload.sha256), sha256: upload.sha256, body: input.bytes, contentType: upload.declaredMimeType },
      curated: {
        area: 'curated' as const,
        key: contentKey(prefix, curatedSha256),
        sha256: curatedSha256,
        body: processed.curated.bytes,
        contentType: processed.curated.contentType,
      },
      derivative: processed.derivative
        ? {
            area: 'curated' as const,
            key: contentKey(prefix, derivativeSha256!),
            sha256: derivativeSha256!,
            body: processed.derivative,
            contentType: 'image/png',
          }
        : null,
      deidentified: processed.deidentifiedDicom
        ? {
            area: 'curated' as const,
            key: contentKey(prefix, deidentifiedSha256!),
            sha256: deidentifiedSha256!,
            body: processed.deidentifiedDicom,
            contentType: 'application/dicom',
          }
        : null,
    };
    const blobs = [planned.raw, planned.curated, planned.derivative, planned.deidentified].filter((b): b is NonNullable<typeof b> => b !== null);
    const intentBlobs: IntentBlob[] = blobs.map((b) => ({ area: b.area, key: b.key }));

    const command: AssetCommand = {
      type: 'IngestAsset',
      assetId,
      upload,
      ...admission,
      ingested: {
        kind: processed.kind,
        mimeType: processed.mimeType,
        width: processed.width,
        height: processed.height,
        storage: {
          raw: planned.raw.key,
          curated: planned.curated.key,
          curatedSha256,
          curatedMediaType: curatedMediaType(processed.curated.contentType),
          derivative: planned.derivative?.key ?? null,
          derivativeSha256,
          ...(planned.deidentified ? { deidentified: planned.deidentified.key, deidentifiedSha256: deidentifiedSha256! } : {}),
        },
        deidentification: processed.deidentification,
      },
    };
    const tPut = performance.now();
    await this.intents.announce(assetId, subjectId!, intentBlobs);
    try {
      // Every write settles before the catch below may delete blobs and discard the intent: a
      // write still running then would land after the clean-up, a blob with neither event nor intent.
      const writes = await Promise.allSettled(
        blobs.map((b) => this.storage.putBuffer(b.area, b.body, { prefix, contentType: b.contentType, sha256: b.sha256 })),
      );
      const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
      if (process.env[PAUSE_AFTER_BLOBS] === '1') {
        process.stdout.write('BLOBS_WRITTEN\n');
        await new Promise(() => undefined);
      }
      const tAppend = performance.now();
      await withTransaction(this.dataSource, async (tx) => {
        // Erasure marks the subject before it deletes blobs; an upload that finishes after
        // that must not commit (its blobs would escape the erasure).
        const [row] = await tx.query('SELECT status FROM ingestion_subjects WHERE subject_id = $1 FOR SHARE', [subjectId]);
        if (!row || row.status !== 'active') throw new IngestionException(IngestionErrorCode.SubjectErased, `subject ${subjectId} is being erased`);
        // Consent may have been withdrawn while the upload was processed and written: admission
        // is decided again on the subject's current stream. The lock orders this against a
        // consent change (ConsentUseCases takes it too), so a withdrawal either is seen here or
        // commits after this asset, which it then covers.
        await lockSubject(tx, subjectId!);
        const { state: current } = await loadSubject(this.store, subjectId!, tx);
        const decided = await handleCommand(
          this.store,
          assetDecider,
          this.target(assetId),
          { ...command, subject: current, now: this.clock() },
          { context, queryRunner: tx },
        );
        const [event] = decided.newEvents;
        // Rolled back, so that the blobs are cleaned up before the refusal is recorded (recovery
        // keeps the blobs of an asset whose stream has an event).
        if (event.type === 'AssetRejected') throw new AdmissionLost(event);
        // Same bytes, same subject, uploads racing: the subject lock above serializes them, so the
        // later one sees the first here and answers it.
        const [winner] = await tx.query(`SELECT 1 FROM ingestion_assets WHERE subject_id = $1 AND sha256 = $2 AND status = 'ingested'`, [
          subjectId,
          upload.sha256,
        ]);
        if (winner) throw new LostRace();
        if (!(await this.intents.complete(tx, assetId))) {
          throw new IngestionException(
            IngestionErrorCode.ConcurrentChange,
            `upload ${assetId} took longer than the recovery grace period and was cleaned up; retry`,
          );
        }
        await this.readModels.applyAll(decided.appended, tx);
      });
      this.recordStages(processed, { process: tHash - tProcess, hash: tPut - tHash, put: tAppend - tPut, append: performance.now() - tAppend });
    } catch (err) {
      await this.cleanUp(assetId, subjectId!, intentBlobs);
      if (err instanceof AdmissionLost) {
        const { reasonCode, message } = err.rejection.data;
        return this.reject({ type: 'RejectAsset', assetId, subjectId, upload, code: reasonCode, message }, context);
      }
      // The same bytes for the same subject raced another upload, which won: answer it.
      if (err instanceof LostRace || (err as { code?: string }).code === '23505') {
        const winner = await this.findExisting(subjectId!, upload.sha256);
        if (winner) return winner;
      }
      throw err;
    }
    const data = command.ingested;
    return {
      assetId,
      subjectId: subjectId!,
      duplicate: false,
      kind: data.kind,
      mimeType: data.mimeType,
      sha256: upload.sha256,
      size: upload.size,
      width: data.width,
      height: data.height,
    };
  }

  private recordStages(processed: ProcessedAsset, ms: { process: number; hash: number; put: number; append: number }): void {
    if (!processed.stageMs) return;
    const s = this.stageMs;
    s.images += 1;
    s.process += ms.process;
    s.decode += processed.stageMs.decode;
    s.derivative += processed.stageMs.derivative;
    s.curate += processed.stageMs.curate;
    s.hash += ms.hash;
    s.put += ms.put;
    s.append += ms.append;
  }

  private async resolveSubject(ref: string): Promise<string | null> {
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 200) return null;
    if (isUuid(ref)) return ref.toLowerCase();
    return (await this.identities.subjectIdByExternalRef(ref)) ?? null;
  }

  private async describedAsset(assetId: string): Promise<DescribedAsset | null> {
    const rows = await this.dataSource.query('SELECT asset_id, subject_id, kind, status FROM ingestion_assets WHERE asset_id = $1', [assetId]);
    return rows[0] ? { assetId: rows[0].asset_id, subjectId: rows[0].subject_id, kind: rows[0].kind, status: rows[0].status } : null;
  }

  private async findExisting(subjectId: string, sha256: string): Promise<IngestedAssetView | undefined> {
    const rows = await this.dataSource.query(
      `SELECT asset_id, subject_id, kind, mime_type, sha256, size, width, height FROM ingestion_assets WHERE subject_id = $1 AND sha256 = $2 AND status = 'ingested'`,
      [subjectId, sha256],
    );
    const r = rows[0];
    return r
      ? {
          assetId: r.asset_id,
          subjectId: r.subject_id,
          duplicate: true,
          kind: r.kind,
          mimeType: r.mime_type,
          sha256: r.sha256,
          size: Number(r.size),
          width: r.width,
          height: r.height,
        }
      : undefined;
  }

  private target(assetId: string) {
    return { log: INGESTION_LOG, streamId: assetStream(assetId), contracts: ingestionContracts };
  }

  /** Records a refusal (validation, or consent lost during the upload) and answers it as AssetRejected. */
  private async reject(command: Extract<AssetCommand, { type: 'RejectAsset' }>, context: AppendContext): Promise<never> {
    await this.decide(command, context);
    throw new Error(`the asset decider did not reject ${command.assetId}`);
  }

  /** Admission or a refusal, outside the commit: a rejection is appended and answered as AssetRejected. */
  private async decide(command: Extract<AssetCommand, { type: 'AdmitAsset' | 'RejectAsset' }>, context: AppendContext): Promise<void> {
    const { newEvents } = await handleCommand(this.store, assetDecider, this.target(command.assetId), command, { context });
    const rejection = newEvents.find((e): e is AssetRejected => e.type === 'AssetRejected');
    if (rejection) {
      const { reasonCode, message } = rejection.data;
      throw new IngestionException(IngestionErrorCode.AssetRejected, `${reasonCode}: ${message}`, undefined, reasonCode);
    }
  }

  /**
   * Best effort after a failed upload; whatever is left, UploadRecovery finds through the intent.
   * Check and delete run under the subject lock, which announcing an intent and committing an
   * asset also take: no other upload can start referring to a shared key in between.
   */
  private async cleanUp(assetId: string, subjectId: string, blobs: IntentBlob[]): Promise<void> {
    try {
      await withTransaction(this.dataSource, async (tx) => {
        await lockSubject(tx, subjectId);
        for (const b of blobs) if (!(await blobReferenced(tx, b, assetId))) await this.storage.delete(b.area, b.key);
        await this.intents.delete(tx, assetId);
      });
    } catch {
      // Left to recovery.
    }
  }
}
