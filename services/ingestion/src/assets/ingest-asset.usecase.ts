import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { Actor, AppendContext, AssetKind, INGESTION_LOG } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { PostgresEventStore } from '@trellis/event-store';
import { contentKey, type ObjectStorage } from '@trellis/storage';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { IngestionConfig } from '../ingestion.config';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { SubjectIdentityRepository } from '../subjects/subject-identity.repository';
import { isUuid, loadSubject, lockSubject } from '../subjects/subject.store';
import { initialSubjectState } from '../subjects/subject.decider';
import { Admission, AssetCommand, assetStream, checkAdmission, decideAsset, DescribedAsset, initialAssetState, Upload } from './asset.decider';
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

class LostRace extends Error {}
class AdmissionLost extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
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
export class IngestAssetUseCase {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly storage: ObjectStorage,
    private readonly identities: SubjectIdentityRepository,
    private readonly intents: UploadIntentRepository,
    private readonly readModels: IngestionReadModels,
    private readonly config: IngestionConfig,
    private readonly processor: AssetProcessorPort = new InlineProcessor(),
    private readonly newId: () => string = uuidv4,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async ingest(input: IngestAssetInput, actor: Actor): Promise<IngestedAssetView> {
    const context: AppendContext = { actor };
    const assetId = this.newId();
    const upload: Upload = { sha256: sha256Hex(input.bytes), size: input.bytes.length, declaredMimeType: String(input.declaredMimeType ?? '') };

    const subjectId = await this.resolveSubject(input.subject);
    const { state: subject } = subjectId ? await loadSubject(this.store, subjectId) : { state: initialSubjectState };
    const kind = ASSET_MIME_TYPES[upload.declaredMimeType] ?? null;
    const describesAssetId = input.describesAssetId ? String(input.describesAssetId).toLowerCase() : null;
    if (describesAssetId && !isUuid(describesAssetId)) {
      return this.reject(assetId, subjectId, upload, 'INVALID_DESCRIBES', 'describesAssetId must be an asset id (UUID)', context);
    }
    const admission: Admission = { subjectId, subject, kind, describesAssetId, describes: describesAssetId ? await this.describedAsset(describesAssetId) : null, now: this.clock() };
    const refusal = checkAdmission(admission);
    if (refusal) return this.reject(assetId, subjectId, upload, refusal.code, refusal.message, context);
    if (input.kind !== undefined && input.kind !== '' && kind && input.kind !== kind) {
      return this.reject(assetId, subjectId, upload, 'KIND_MISMATCH', `declared kind ${JSON.stringify(input.kind)} but ${upload.declaredMimeType} is a ${kind}`, context);
    }

    const existing = await this.findExisting(subjectId!, upload.sha256);
    if (existing) return existing;

    let processed: ProcessedAsset;
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
      if (err instanceof AssetValidationError) return this.reject(assetId, subjectId, upload, (err as AssetValidationError).code, (err as Error).message, context);
      throw err;
    }

    const prefix = `subjects/${subjectId}/`;
    // Each blob is hashed once, here; the storage takes the hash as its content address.
    const curatedSha256 = sha256Hex(processed.curated.bytes);
    const derivativeSha256 = processed.derivative ? sha256Hex(processed.derivative) : null;
    const deidentifiedSha256 = processed.deidentifiedDicom ? sha256Hex(processed.deidentifiedDicom) : null;
    const planned = {
      raw: { area: 'raw' as const, key: contentKey(prefix, upload.sha256), sha256: upload.sha256, body: input.bytes, contentType: upload.declaredMimeType },
      curated: { area: 'curated' as const, key: contentKey(prefix, curatedSha256), sha256: curatedSha256, body: processed.curated.bytes, contentType: processed.curated.contentType },
      derivative: processed.derivative ? { area: 'curated' as const, key: contentKey(prefix, derivativeSha256!), sha256: derivativeSha256!, body: processed.derivative, contentType: 'image/png' } : null,
      deidentified: processed.deidentifiedDicom
        ? { area: 'curated' as const, key: contentKey(prefix, deidentifiedSha256!), sha256: deidentifiedSha256!, body: processed.deidentifiedDicom, contentType: 'application/dicom' }
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
          derivative: planned.derivative?.key ?? null,
          derivativeSha256,
          ...(planned.deidentified ? { deidentified: planned.deidentified.key, deidentifiedSha256: deidentifiedSha256! } : {}),
        },
        deidentification: processed.deidentification,
      },
    };
    const events = decideAsset(initialAssetState, command);

    await this.intents.announce(assetId, subjectId!, intentBlobs);
    try {
      // Every write settles before the catch below may delete blobs and discard the intent: a
      // write still running then would land after the clean-up, a blob with neither event nor intent.
      const writes = await Promise.allSettled(blobs.map((b) => this.storage.putBuffer(b.area, b.body, { prefix, contentType: b.contentType, sha256: b.sha256 })));
      const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed) throw failed.reason;
      if (process.env[PAUSE_AFTER_BLOBS] === '1') {
        process.stdout.write('BLOBS_WRITTEN\n');
        await new Promise(() => undefined);
      }
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
        const { state: current } = await loadSubject(this.store, subjectId!);
        const refused = checkAdmission({ ...admission, subject: current, now: this.clock() });
        if (refused) throw new AdmissionLost(refused.code, refused.message);
        // Same bytes, same subject, uploads racing: the subject lock above serializes them, so the
        // later one sees the first here and answers it.
        const [winner] = await tx.query(`SELECT 1 FROM ingestion_assets WHERE subject_id = $1 AND sha256 = $2 AND status = 'ingested'`, [subjectId, upload.sha256]);
        if (winner) throw new LostRace();
        if (!(await this.intents.complete(tx, assetId))) {
          throw new IngestionException(IngestionErrorCode.ConcurrentChange, `upload ${assetId} took longer than the recovery grace period and was cleaned up; retry`);
        }
        const appended = await this.store.append(INGESTION_LOG, assetStream(assetId), events, context, { expectedVersion: 'no_stream', queryRunner: tx });
        await this.readModels.applyAll(appended.events, tx);
      });
    } catch (err) {
      await this.cleanUp(assetId, subjectId!, intentBlobs);
      if (err instanceof AdmissionLost) return this.reject(assetId, subjectId, upload, err.code, err.message, context);
      // The same bytes for the same subject raced another upload, which won: answer it.
      if (err instanceof LostRace || (err as { code?: string }).code === '23505') {
        const winner = await this.findExisting(subjectId!, upload.sha256);
        if (winner) return winner;
      }
      throw err;
    }
    const data = events[0].data as { kind: AssetKind; mimeType: string; width: number | null; height: number | null };
    return { assetId, subjectId: subjectId!, duplicate: false, kind: data.kind, mimeType: data.mimeType, sha256: upload.sha256, size: upload.size, width: data.width, height: data.height };
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
      ? { assetId: r.asset_id, subjectId: r.subject_id, duplicate: true, kind: r.kind, mimeType: r.mime_type, sha256: r.sha256, size: Number(r.size), width: r.width, height: r.height }
      : undefined;
  }

  private async reject(assetId: string, subjectId: string | null, upload: Upload, code: string, message: string, context: AppendContext): Promise<never> {
    const events = decideAsset(initialAssetState, { type: 'RejectAsset', assetId, subjectId, upload, code, message });
    // A subject that is not registered is not named in the event: the reference may be personal.
    const knownSubject = subjectId && code !== 'UNKNOWN_SUBJECT' ? subjectId : null;
    const safe = events.map((e) => ({ ...e, data: { ...e.data, subjectId: knownSubject } }));
    await this.store.append(INGESTION_LOG, assetStream(assetId), safe, context, { expectedVersion: 'no_stream' });
    throw new IngestionException(IngestionErrorCode.AssetRejected, `${code}: ${message}`, undefined, code);
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
