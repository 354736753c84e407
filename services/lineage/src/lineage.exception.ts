import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum LineageErrorCode {
  InvalidQuery = 'INVALID_QUERY',
  /** An OpenLineage event sent to the import endpoint does not have the shape the lineage reads. */
  InvalidLineageEvent = 'INVALID_LINEAGE_EVENT',
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
      case LineageErrorCode.InvalidLineageEvent:
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
