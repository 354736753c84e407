import type { AssetIngested, AssetKind, AssetRejected } from '@trellis/contracts';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { permittedPurposes, SubjectState } from '../subjects/subject.decider';

/** One asset per stream (`asset-<id>`): it was ingested, or it was rejected. */
export type AssetEvent = AssetIngested | AssetRejected;
export type AssetState = { status: 'none' } | { status: 'ingested' | 'rejected'; assetId: string };
export const initialAssetState: AssetState = { status: 'none' };
export const assetStream = (assetId: string) => `asset-${assetId}`;

/** Why an asset is refused before its bytes are even looked at. Validation codes come from processing/. */
export type AdmissionCode = 'UNKNOWN_SUBJECT' | 'SUBJECT_ERASED' | 'NO_CONSENT' | 'INVALID_DESCRIBES';

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

export interface Admission {
  subjectId: string | null;
  subject: SubjectState;
  kind: AssetKind | null;
  describesAssetId: string | null;
  describes: DescribedAsset | null;
  now: Date;
}

export type AssetCommand =
  | ({ type: 'IngestAsset'; assetId: string; upload: Upload; ingested: Omit<AssetIngested['data'], 'assetId' | 'subjectId' | 'sha256' | 'size' | 'describesAssetId'> } & Admission)
  | { type: 'RejectAsset'; assetId: string; subjectId: string | null; upload: Upload; code: string; message: string };

/** The subject must exist, not be erased and permit at least one purpose; a report may describe an image of the same subject. */
export function checkAdmission(a: Admission): { code: AdmissionCode; message: string } | null {
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
  return null;
}

function rejected(assetId: string, subjectId: string | null, upload: Upload, code: string, message: string): AssetRejected {
  return {
    type: 'AssetRejected',
    data: { assetId, subjectId, sha256: upload.sha256, size: upload.size, declaredMimeType: upload.declaredMimeType.slice(0, 100), reasonCode: code, message: message.slice(0, 500) },
  };
}

export function decideAsset(state: AssetState, command: AssetCommand): AssetEvent[] {
  if (state.status !== 'none') throw new IngestionException(IngestionErrorCode.ConcurrentChange, `asset ${command.assetId} is already decided (${state.status})`);
  switch (command.type) {
    case 'RejectAsset':
      return [rejected(command.assetId, command.subjectId, command.upload, command.code, command.message)];
    case 'IngestAsset': {
      const refusal = checkAdmission(command);
      if (refusal) return [rejected(command.assetId, command.subjectId, command.upload, refusal.code, refusal.message)];
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
