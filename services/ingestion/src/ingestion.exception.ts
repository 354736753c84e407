import { type AssetRejectionCode, describeIssues, issueField } from '@trellis/contracts';
import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum IngestionErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  InvalidFhirConsent = 'INVALID_FHIR_CONSENT',
  SubjectNotFound = 'SUBJECT_NOT_FOUND',
  SubjectAlreadyRegistered = 'SUBJECT_ALREADY_REGISTERED',
  /** An external reference registered again with a different name, birth date or MRN. */
  SubjectIdentityConflict = 'SUBJECT_IDENTITY_CONFLICT',
  SubjectErased = 'SUBJECT_ERASED',
  ConsentNotFound = 'CONSENT_NOT_FOUND',
  ConsentAlreadyWithdrawn = 'CONSENT_ALREADY_WITHDRAWN',
  /** An asset was refused (validation, unknown subject, no consent); the AssetRejected event is its audit record. */
  AssetRejected = 'ASSET_REJECTED',
  AssetNotFound = 'ASSET_NOT_FOUND',
  AssetNotAvailable = 'ASSET_NOT_AVAILABLE',
  DatasetNotFound = 'DATASET_NOT_FOUND',
  DatasetNameTaken = 'DATASET_NAME_TAKEN',
  DatasetMemberConflict = 'DATASET_MEMBER_CONFLICT',
  EmptyDataset = 'EMPTY_DATASET',
  NothingToPublish = 'NOTHING_TO_PUBLISH',
  VersionNotFound = 'VERSION_NOT_FOUND',
  ConcurrentChange = 'CONCURRENT_CHANGE',
  /** Too many uploads at once: refused before any work, to be retried after Retry-After. */
  UploadsBusy = 'UPLOADS_BUSY',
}

export class IngestionException extends DomainException<IngestionErrorCode> {
  constructor(
    code: IngestionErrorCode,
    message: string,
    fields?: string[],
    /** For AssetRejected: the machine-readable reason (AssetRejected.reasonCode). */
    reason?: AssetRejectionCode,
  ) {
    super(code, message, fields, reason);
  }

  private retryAfter?: number;

  /** An `unavailable` error that tells the client when to come back. */
  static unavailable(code: IngestionErrorCode.UploadsBusy, message: string, retryAfterSeconds: number): IngestionException {
    const err = new IngestionException(code, message);
    err.retryAfter = retryAfterSeconds;
    return err;
  }

  override get retryAfterSeconds(): number | undefined {
    return this.errorClass === 'unavailable' ? (this.retryAfter ?? 1) : undefined;
  }

  override get transient(): boolean {
    return this.code === IngestionErrorCode.ConcurrentChange || this.code === IngestionErrorCode.UploadsBusy;
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case IngestionErrorCode.InvalidRequest:
      case IngestionErrorCode.InvalidFhirConsent:
      case IngestionErrorCode.AssetRejected:
      case IngestionErrorCode.EmptyDataset:
        return 'validation';
      case IngestionErrorCode.SubjectNotFound:
      case IngestionErrorCode.ConsentNotFound:
      case IngestionErrorCode.AssetNotFound:
      case IngestionErrorCode.DatasetNotFound:
      case IngestionErrorCode.VersionNotFound:
        return 'not_found';
      case IngestionErrorCode.SubjectAlreadyRegistered:
      case IngestionErrorCode.SubjectIdentityConflict:
      case IngestionErrorCode.SubjectErased:
      case IngestionErrorCode.ConsentAlreadyWithdrawn:
      case IngestionErrorCode.AssetNotAvailable:
      case IngestionErrorCode.DatasetNameTaken:
      case IngestionErrorCode.DatasetMemberConflict:
      case IngestionErrorCode.NothingToPublish:
      case IngestionErrorCode.ConcurrentChange:
        return 'conflict';
      case IngestionErrorCode.UploadsBusy:
        return 'unavailable';
      default:
        return unreachable(this.code);
    }
  }
}

/** Zod issues as one message naming each offending field. */
export function invalidRequest(what: string, issues: { code: string; path: (string | number)[]; message: string }[]): IngestionException {
  // describeIssues leaves out what the client sent (an enum value, an unknown key): it may be personal data.
  return new IngestionException(IngestionErrorCode.InvalidRequest, `invalid ${what}: ${describeIssues(issues)}`, [...new Set(issues.map(issueField))]);
}
