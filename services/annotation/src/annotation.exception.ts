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
}

export class AnnotationException extends DomainException<AnnotationErrorCode> {
  get errorClass(): ErrorClass {
    switch (this.code) {
      case AnnotationErrorCode.InvalidRequest:
      case AnnotationErrorCode.InvalidAnswer:
      case AnnotationErrorCode.InvalidImport:
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
