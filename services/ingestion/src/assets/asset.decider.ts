import { AssetIngested, AssetKind, AssetRejected, AssetRejectionCode, isUuid } from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { permittedPurposes, SubjectState } from '../subjects/subject.decider';

/** The declared types an AssetRejected event may repeat (those the platform accepts). */
const KNOWN_MIME_TYPES = ['image/png', 'image/jpeg', 'application/dicom', 'text/plain', 'application/fhir+json'];

/** One asset per stream (`asset-<id>`): it was ingested, or it was rejected. */
export type AssetEvent = AssetIngested | AssetRejected;
export type AssetState = { status: 'none' } | { status: 'ingested' | 'rejected'; assetId: string };
export const initialAssetState: AssetState = { status: 'none' };
export const assetStream = (assetId: string) => `asset-${assetId}`;

export interface Upload {
  sha256: string;
  size: number;
  declaredMimeType: string;
}

/** The image a report says it describes, as the catalog knows it (null: no such asset). */
export interface DescribedAsset {
  assetId: string;
  subjectId: string;
  kind: AssetKind;
  status: 'ingested' | 'erased';
}

/** What admission is decided on, gathered by the use case before the bytes are looked at. */
export interface Admission {
  subjectId: string | null;
  subject: SubjectState;
  /** What the declared MIME type makes of the upload (null: a type processing will refuse). */
  kind: AssetKind | null;
  /** The kind the caller stated, if any; it must agree with the MIME type. */
  declaredKind?: string;
  /** As the caller gave it (lowercased); it must be an asset id. */
  describesAssetId: string | null;
  describes: DescribedAsset | null;
  now: Date;
}

export type AssetCommand =
  /** Before processing: refuses early (one AssetRejected) or lets the upload go on (no event). */
  | ({ type: 'AdmitAsset'; assetId: string; upload: Upload } & Admission)
  /** At commit, on the subject's current state: consent may have changed while the bytes were processed. */
  | ({
      type: 'IngestAsset';
      assetId: string;
      upload: Upload;
      ingested: Omit<AssetIngested['data'], 'assetId' | 'subjectId' | 'sha256' | 'size' | 'describesAssetId'>;
    } & Admission)
  /** The bytes failed validation (processing/). */
  | { type: 'RejectAsset'; assetId: string; subjectId: string | null; upload: Upload; code: AssetRejectionCode; message: string };

/**
 * The admission rules, in the order they are reported: the described asset must be an asset id;
 * the subject must exist, not be erased and permit at least one purpose; a report may describe an
 * image of the same subject; a stated kind must match the MIME type.
 */
function refusal(a: Admission, upload: Upload): { code: AssetRejectionCode; message: string } | null {
  if (a.describesAssetId && !isUuid(a.describesAssetId)) return { code: 'INVALID_DESCRIBES', message: 'describesAssetId must be an asset id (UUID)' };
  if (!a.subjectId || a.subject.status === 'none') return { code: 'UNKNOWN_SUBJECT', message: 'no registered subject with that id or external reference' };
  if (a.subject.status === 'erased') return { code: 'SUBJECT_ERASED', message: `subject ${a.subjectId} has been erased` };
  if (permittedPurposes(a.subject, a.now).length === 0) {
    return { code: 'NO_CONSENT', message: `subject ${a.subjectId} holds no active permit consent (none recorded, withdrawn, denied or out of its period)` };
  }
  if (a.describesAssetId) {
    if (a.kind !== 'report') return { code: 'INVALID_DESCRIBES', message: 'only a report can describe another asset' };
    const d = a.describes;
    if (!d || d.status !== 'ingested') return { code: 'INVALID_DESCRIBES', message: `describesAssetId ${a.describesAssetId} is not an ingested asset` };
    if (d.subjectId !== a.subjectId) return { code: 'INVALID_DESCRIBES', message: `asset ${a.describesAssetId} belongs to another subject` };
    if (d.kind !== 'image') return { code: 'INVALID_DESCRIBES', message: `asset ${a.describesAssetId} is not an image` };
  }
  if (a.declaredKind !== undefined && a.declaredKind !== '' && a.kind && a.declaredKind !== a.kind) {
    // The declared kind is input (it may hold anything): the message names what the type is, never what was typed.
    return { code: 'KIND_MISMATCH', message: `the declared kind does not match: ${upload.declaredMimeType} is a ${a.kind}` };
  }
  return null;
}

function rejected(assetId: string, subjectId: string | null, upload: Upload, code: AssetRejectionCode, message: string): AssetRejected {
  // A subject that is not registered is not named: the reference may be personal.
  const named = code === 'UNKNOWN_SUBJECT' ? null : subjectId;
  return {
    type: 'AssetRejected',
    data: {
      assetId,
      subjectId: named,
      sha256: upload.sha256,
      size: upload.size,
      // Only a type we know; anything else typed there is input and stays out of the log.
      declaredMimeType: KNOWN_MIME_TYPES.includes(upload.declaredMimeType) ? upload.declaredMimeType : 'unsupported',
      reasonCode: code,
      message: message.slice(0, 500),
    },
  };
}

export function decideAsset(state: AssetState, command: AssetCommand): AssetEvent[] {
  if (state.status !== 'none')
    throw new IngestionException(IngestionErrorCode.ConcurrentChange, `asset ${command.assetId} is already decided (${state.status})`);
  switch (command.type) {
    case 'RejectAsset':
      return [rejected(command.assetId, command.subjectId, command.upload, command.code, command.message)];
    case 'AdmitAsset': {
      const refused = refusal(command, command.upload);
      return refused ? [rejected(command.assetId, command.subjectId, command.upload, refused.code, refused.message)] : [];
    }
    case 'IngestAsset': {
      const refused = refusal(command, command.upload);
      if (refused) return [rejected(command.assetId, command.subjectId, command.upload, refused.code, refused.message)];
      return [
        {
          type: 'AssetIngested',
          data: {
            assetId: command.assetId,
            subjectId: command.subjectId!,
            sha256: command.upload.sha256,
            size: command.upload.size,
            describesAssetId: command.describesAssetId,
            ...command.ingested,
          },
        },
      ];
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveAsset(state: AssetState, event: AssetEvent): AssetState {
  return { status: event.type === 'AssetIngested' ? 'ingested' : 'rejected', assetId: event.data.assetId };
}

export const assetDecider: Decider<AssetState, AssetCommand, AssetEvent> = { decide: decideAsset, evolve: evolveAsset, initialState: initialAssetState };
