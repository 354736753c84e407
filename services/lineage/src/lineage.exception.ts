import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum LineageErrorCode {
  InvalidQuery = 'INVALID_QUERY',
  /** An auditor's query could not be written to the audit log, so it was not run. */
  AuditUnavailable = 'AUDIT_UNAVAILABLE',
  NotFound = 'NOT_FOUND',
  /** An artifact an event names (a manifest, a set) does not match the hash the event carries. */
  ArtifactCorrupt = 'ARTIFACT_CORRUPT',
}

export class LineageException extends DomainException<LineageErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case LineageErrorCode.InvalidQuery:
        return 'validation';
      case LineageErrorCode.AuditUnavailable:
        return 'unavailable';
      case LineageErrorCode.NotFound:
        return 'not_found';
      case LineageErrorCode.ArtifactCorrupt:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }
}
