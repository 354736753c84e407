import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';

/**
 * Published language of the ingestion context (log `ingestion`, topic `trellis.ingestion.v1`).
 * It lives here rather than in the ingestion service because annotation, trainer, registry and
 * lineage consume it and must not import another service. No field may hold personal data:
 * subjects appear only as pseudonymous ids, content only as hashes and storage keys.
 */
export const INGESTION_LOG = 'ingestion';

/** What a subject can consent to; FHIR purpose codings are mapped onto these on input. */
export const CONSENT_PURPOSES = ['model-training', 'research', 'human-annotation'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** FHIR R4 and R5 Consent.status values together. */
export const CONSENT_STATUSES = ['draft', 'proposed', 'active', 'rejected', 'inactive', 'not-done', 'entered-in-error', 'unknown'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const ASSET_KINDS = ['image', 'report'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

export const STORAGE_AREAS = ['raw', 'curated', 'artifacts'] as const;

/**
 * Why an asset was refused (AssetRejected.reasonCode): admission (whose it is, consent, what it
 * describes, the declared kind) or validation of its bytes. A new reason is added here first.
 */
export const ASSET_REJECTION_CODES = [
  'UNKNOWN_SUBJECT',
  'SUBJECT_ERASED',
  'NO_CONSENT',
  'INVALID_DESCRIBES',
  'KIND_MISMATCH',
  'EMPTY_FILE',
  'WRONG_MAGIC',
  'UNSUPPORTED_TYPE',
  'TOO_LARGE',
  'TOO_MANY_PIXELS',
  'TRUNCATED',
  'DECODE_FAILED',
  'NOT_UTF8',
  'INVALID_FHIR',
  'UNSUPPORTED_DICOM',
] as const;
export type AssetRejectionCode = (typeof ASSET_REJECTION_CODES)[number];

const uuid = z.string().uuid();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const storageKey = z.string().min(1).max(1024);
const datetime = z.string().datetime({ offset: true });

export const SubjectRegisteredV1 = z.object({ subjectId: uuid }).strict();

export const ConsentRecordedV1 = z
  .object({
    subjectId: uuid,
    consentId: uuid,
    status: z.enum(CONSENT_STATUSES),
    decision: z.enum(['permit', 'deny']),
    purposes: z.array(z.enum(CONSENT_PURPOSES)).min(1),
    period: z.object({ start: datetime.nullable(), end: datetime.nullable() }).strict(),
    /** The signed consent document, by hash only (it may name the subject). */
    sourceSha256: sha256.nullable(),
    /** Set when the consent arrived as a FHIR resource. */
    fhirVersion: z.enum(['R4', 'R5']).nullable(),
  })
  .strict();

export const ConsentWithdrawnV1 = z
  .object({
    subjectId: uuid,
    consentId: uuid,
    /** The purposes no longer permitted by this withdrawal. */
    purposes: z.array(z.enum(CONSENT_PURPOSES)).min(1),
    /** The subject also asked for their data to be deleted (erasure follows as SubjectErased). */
    eraseData: z.boolean(),
  })
  .strict();

export const DeidentificationRecordV1 = z
  .object({
    /** `dicom-ps3.15-e1-basic`, `hipaa-safe-harbor` or `none` (PNG/JPEG carry no tags we keep). */
    method: z.enum(['dicom-ps3.15-e1-basic', 'hipaa-safe-harbor', 'none']),
    /** Profile options applied, e.g. `retain-longitudinal-temporal-off`, `clean-pixel-data-off`. */
    options: z.array(z.string().max(100)).max(50),
    /** Counts per category or tag group; never the removed values. */
    summary: z.record(z.string().max(100), z.number().int().nonnegative()),
  })
  .strict();

export const AssetIngestedV1 = z
  .object({
    assetId: uuid,
    subjectId: uuid,
    kind: z.enum(ASSET_KINDS),
    /** Detected from the bytes (it matched the declared type). */
    mimeType: z.string().max(100),
    /** Of the original bytes, as uploaded (also the raw key's content address). */
    sha256,
    size: z.number().int().nonnegative(),
    width: z.number().int().positive().nullable(),
    height: z.number().int().positive().nullable(),
    storage: z
      .object({
        raw: storageKey,
        curated: storageKey,
        curatedSha256: sha256,
        /** Images only: the 224x224 PNG the model's preprocessing expects. */
        derivative: storageKey.nullable(),
        derivativeSha256: sha256.nullable(),
        /** DICOM only: the de-identified DICOM file itself (`curated` is its PNG rendering). Optional: added after v1 shipped. */
        deidentified: storageKey.nullable().optional(),
        deidentifiedSha256: sha256.nullable().optional(),
      })
      .strict(),
    deidentification: DeidentificationRecordV1,
    /** A report names the image it describes (same subject), so annotators get it as context. */
    describesAssetId: uuid.nullable(),
  })
  .strict();

/**
 * What the curated blob is: a JPEG stripped of its metadata (its scans as uploaded), a PNG
 * (PNG uploads, re-encoded images, DICOM renderings), or redacted UTF-8 text (reports).
 */
export const CURATED_MEDIA_TYPES = ['image/jpeg', 'image/png', 'text/plain'] as const;
export type CuratedMediaType = (typeof CURATED_MEDIA_TYPES)[number];

/**
 * V2 records the curated blob's media type (`storage.curatedMediaType`): since JPEGs are curated
 * as JPEGs, readers cannot assume PNG. Every V1 image was curated as PNG and every report as
 * UTF-8 text, which is what a V1 event is upcast to.
 */
export const AssetIngestedV2 = AssetIngestedV1.extend({
  storage: AssetIngestedV1.shape.storage.extend({ curatedMediaType: z.enum(CURATED_MEDIA_TYPES) }).strict(),
}).strict();

/**
 * A curated image's media type from its first bytes, for readers that hold a curated key but not
 * the AssetIngested event (annotation reaches images through dataset manifests): PNG by its
 * signature, JPEG by SOI; null for anything else.
 */
export function curatedImageMediaType(head: Uint8Array): 'image/png' | 'image/jpeg' | null {
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'image/png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  return null;
}

export function upcastAssetIngestedV1(data: unknown): z.infer<typeof AssetIngestedV2> {
  const d = data as z.infer<typeof AssetIngestedV1>;
  return { ...d, storage: { ...d.storage, curatedMediaType: d.kind === 'report' ? 'text/plain' : 'image/png' } };
}

export const AssetRejectedV1 = z
  .object({
    assetId: uuid,
    subjectId: uuid.nullable(),
    sha256: sha256.nullable(),
    size: z.number().int().nonnegative(),
    declaredMimeType: z.string().max(100),
    reasonCode: z.enum(ASSET_REJECTION_CODES),
    /** Says what was wrong; never quotes the content. */
    message: z.string().max(500),
  })
  .strict();

export const DatasetCreatedV1 = z.object({ datasetId: uuid, name: z.string().min(1).max(200) }).strict();
export const DatasetAssetAddedV1 = z.object({ datasetId: uuid, assetId: uuid }).strict();
export const DatasetAssetRemovedV1 = z.object({ datasetId: uuid, assetId: uuid }).strict();

/**
 * One member of a published dataset version, as written in the version's manifest. The
 * manifest (JSON, canonical) is stored in the `artifacts` area; the event carries its key and
 * hash, so a consumer verifies what it read. Members are sorted by assetId.
 */
export const DatasetMemberV1 = z
  .object({
    assetId: uuid,
    subjectId: uuid,
    kind: z.enum(ASSET_KINDS),
    mimeType: z.string().max(100),
    sha256,
    curatedKey: storageKey,
    curatedSha256: sha256,
    derivativeKey: storageKey.nullable(),
    describesAssetId: uuid.nullable(),
  })
  .strict();

export const DatasetManifestV1 = z
  .object({
    datasetId: uuid,
    name: z.string(),
    version: z.number().int().positive(),
    members: z.array(DatasetMemberV1),
    /** Merkle root over the members' leaf hashes (see the ingestion datasets feature). */
    merkleRoot: sha256,
  })
  .strict();

export const DatasetVersionPublishedV1 = z
  .object({
    datasetId: uuid,
    name: z.string().min(1).max(200),
    version: z.number().int().positive(),
    merkleRoot: sha256,
    memberCount: z.number().int().nonnegative(),
    manifest: z.object({ area: z.literal('artifacts'), key: storageKey, sha256 }).strict(),
  })
  .strict();

export const SubjectErasedV1 = z
  .object({
    subjectId: uuid,
    reason: z.enum(['gdpr-art17', 'consent-withdrawn']),
    assetCount: z.number().int().nonnegative(),
    blobsDeleted: z.number().int().nonnegative(),
  })
  .strict();

export type SubjectRegistered = { type: 'SubjectRegistered'; data: z.infer<typeof SubjectRegisteredV1> };
export type ConsentRecorded = { type: 'ConsentRecorded'; data: z.infer<typeof ConsentRecordedV1> };
export type ConsentWithdrawn = { type: 'ConsentWithdrawn'; data: z.infer<typeof ConsentWithdrawnV1> };
export type AssetIngested = { type: 'AssetIngested'; data: z.infer<typeof AssetIngestedV2> };
/** The data of a stored v1 AssetIngested (before the curated media type was recorded). */
export type AssetIngestedV1Data = z.infer<typeof AssetIngestedV1>;
export type AssetRejected = { type: 'AssetRejected'; data: z.infer<typeof AssetRejectedV1> };
export type DatasetCreated = { type: 'DatasetCreated'; data: z.infer<typeof DatasetCreatedV1> };
export type DatasetAssetAdded = { type: 'DatasetAssetAdded'; data: z.infer<typeof DatasetAssetAddedV1> };
export type DatasetAssetRemoved = { type: 'DatasetAssetRemoved'; data: z.infer<typeof DatasetAssetRemovedV1> };
export type DatasetVersionPublished = { type: 'DatasetVersionPublished'; data: z.infer<typeof DatasetVersionPublishedV1> };
export type SubjectErased = { type: 'SubjectErased'; data: z.infer<typeof SubjectErasedV1> };
export type DatasetMember = z.infer<typeof DatasetMemberV1>;
export type DatasetManifest = z.infer<typeof DatasetManifestV1>;
export type DeidentificationRecord = z.infer<typeof DeidentificationRecordV1>;

export type IngestionEvent =
  | SubjectRegistered
  | ConsentRecorded
  | ConsentWithdrawn
  | AssetIngested
  | AssetRejected
  | DatasetCreated
  | DatasetAssetAdded
  | DatasetAssetRemoved
  | DatasetVersionPublished
  | SubjectErased;

export const ingestionContracts = new EventContractRegistry<never>()
  .register({ type: 'SubjectRegistered', version: 1, schema: SubjectRegisteredV1 })
  .register({ type: 'ConsentRecorded', version: 1, schema: ConsentRecordedV1 })
  .register({ type: 'ConsentWithdrawn', version: 1, schema: ConsentWithdrawnV1 })
  // Typed as the current data: a stored v1 event is upcast before any reader sees it.
  .register({ type: 'AssetIngested', version: 1, schema: AssetIngestedV1 as unknown as typeof AssetIngestedV2 })
  .register({ type: 'AssetIngested', version: 2, schema: AssetIngestedV2 })
  .registerUpcaster('AssetIngested', 1, upcastAssetIngestedV1)
  .register({ type: 'AssetRejected', version: 1, schema: AssetRejectedV1 })
  .register({ type: 'DatasetCreated', version: 1, schema: DatasetCreatedV1 })
  .register({ type: 'DatasetAssetAdded', version: 1, schema: DatasetAssetAddedV1 })
  .register({ type: 'DatasetAssetRemoved', version: 1, schema: DatasetAssetRemovedV1 })
  .register({ type: 'DatasetVersionPublished', version: 1, schema: DatasetVersionPublishedV1 })
  .register({ type: 'SubjectErased', version: 1, schema: SubjectErasedV1 });
