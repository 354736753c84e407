import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum AnnotationErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  InvalidAnswer = 'INVALID_ANSWER',
  InvalidImport = 'INVALID_IMPORT',
  ProjectNotFound = 'PROJECT_NOT_FOUND',
  TaskNotFound = 'TASK_NOT_FOUND',
  AssignmentNotFound = 'ASSIGNMENT_NOT_FOUND',
  AnnotationSetNotFound = 'ANNOTATION_SET_NOT_FOUND',
  ReportNotFound = 'REPORT_NOT_FOUND',
  NotYourTask = 'NOT_YOUR_TASK',
  SelfReview = 'SELF_REVIEW',
  NotBlind = 'NOT_BLIND',
  AlreadyAnnotated = 'ALREADY_ANNOTATED',
  TaskFull = 'TASK_FULL',
  TaskNotOpen = 'TASK_NOT_OPEN',
  AlreadySubmitted = 'ALREADY_SUBMITTED',
  AlreadyReviewed = 'ALREADY_REVIEWED',
  NotInAdjudication = 'NOT_IN_ADJUDICATION',
  AlreadyExists = 'ALREADY_EXISTS',
  NothingToPublish = 'NOTHING_TO_PUBLISH',
  ConcurrentChange = 'CONCURRENT_CHANGE',
  ArtifactCorrupt = 'ARTIFACT_CORRUPT',
  DatasetVersionNotFound = 'DATASET_VERSION_NOT_FOUND',
  DatasetVersionNotPending = 'DATASET_VERSION_NOT_PENDING',
  /** A project names a dataset (id or name) of which annotation has received no version. */
  UnknownDataset = 'UNKNOWN_DATASET',
  /** A project names a version annotation has not received (yet). */
  UnknownDatasetVersion = 'UNKNOWN_DATASET_VERSION',
  /** A dataset name that several dataset ids have had. */
  AmbiguousDatasetName = 'AMBIGUOUS_DATASET_NAME',
  /** The version arrived but its manifest did not verify: it will never have items. */
  DatasetVersionUnreadable = 'DATASET_VERSION_UNREADABLE',
  ProjectArchived = 'PROJECT_ARCHIVED',
}

export class AnnotationException extends DomainException<AnnotationErrorCode> {
  override get transient(): boolean {
    return this.code === AnnotationErrorCode.ConcurrentChange || this.errorClass === 'internal';
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case AnnotationErrorCode.InvalidRequest:
      case AnnotationErrorCode.InvalidAnswer:
      case AnnotationErrorCode.InvalidImport:
      case AnnotationErrorCode.UnknownDataset:
      case AnnotationErrorCode.UnknownDatasetVersion:
      case AnnotationErrorCode.AmbiguousDatasetName:
        return 'validation';
      case AnnotationErrorCode.ProjectNotFound:
      case AnnotationErrorCode.TaskNotFound:
      case AnnotationErrorCode.AssignmentNotFound:
      case AnnotationErrorCode.AnnotationSetNotFound:
      case AnnotationErrorCode.ReportNotFound:
      case AnnotationErrorCode.DatasetVersionNotFound:
        return 'not_found';
      case AnnotationErrorCode.NotYourTask:
      case AnnotationErrorCode.SelfReview:
      case AnnotationErrorCode.NotBlind:
        return 'forbidden';
      case AnnotationErrorCode.AlreadyAnnotated:
      case AnnotationErrorCode.TaskFull:
      case AnnotationErrorCode.TaskNotOpen:
      case AnnotationErrorCode.AlreadySubmitted:
      case AnnotationErrorCode.AlreadyReviewed:
      case AnnotationErrorCode.NotInAdjudication:
      case AnnotationErrorCode.AlreadyExists:
      case AnnotationErrorCode.NothingToPublish:
      case AnnotationErrorCode.ConcurrentChange:
      case AnnotationErrorCode.DatasetVersionNotPending:
      case AnnotationErrorCode.DatasetVersionUnreadable:
      case AnnotationErrorCode.ProjectArchived:
        return 'conflict';
      case AnnotationErrorCode.ArtifactCorrupt:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }
}

/** Zod issues as "path: message" and the dotted field paths, for a clear 400. */
export function describeIssues(issues: { path: (string | number)[]; message: string }[], root = 'body'): { detail: string; fields: string[] } {
  const fields = issues.map((i) => [root, ...i.path].join('.'));
  return { detail: issues.map((i, n) => `${fields[n]}: ${i.message}`).join('; '), fields };
}
