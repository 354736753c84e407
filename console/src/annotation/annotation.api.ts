// The annotation service's REST shapes, as its controllers and use cases answer them
// (services/annotation/src/{projects,tasks,sets}). Every call the annotation pages make is here.

export type TaskType = 'caption' | 'vqa' | 'classification';
export type TaskStatus = 'open' | 'adjudication' | 'final' | 'cancelled';
export type AssignmentStatus = 'assigned' | 'submitted' | 'accepted' | 'rejected' | 'released';
export type LeaveOutReason = 'consent-withdrawn:human-annotation' | 'consent-withdrawn:model-training' | 'subject-erased';

export type Answer =
  { kind: 'caption'; caption: string } | { kind: 'vqa'; pairs: { question: string; answer: string }[] } | { kind: 'classification'; label: string };

export interface ProjectRules {
  taskType: TaskType;
  labels: string[];
  annotationsPerItem: number;
  agreementThreshold: number;
  maxTextLength: number;
  reassignRejectedToSameAnnotator: boolean;
}

/** GET /annotation/projects (each) */
export interface ProjectRecord {
  projectId: string;
  name: string;
  datasetId: string;
  datasetVersion: number;
  guidelines: string;
  rules: ProjectRules;
  tasksCreated: boolean;
  status: 'active' | 'archived';
  archivedAt: string | null;
  createdBy: string;
  createdAt: string;
}

/** Task counts by status; every status is present. */
export type TaskCounts = Record<TaskStatus, number>;

/** GET /annotation/projects/:id */
export interface ProjectSummary extends ProjectRecord {
  tasks: TaskCounts;
  datasetVersionReceived: boolean;
}

/** GET /annotation/dataset-versions (each; steward, auditor) */
export interface DatasetVersionRecord {
  datasetId: string;
  version: number;
  name: string;
  status: string;
  problem: string | null;
  items: number;
}

export interface AnnotatorAgreement {
  annotatorId: string;
  items: number;
  agreementWithFinal: number | null;
  meanSimilarityToFinal: number | null;
  meanPairwiseCohensKappa: number | null;
}

/** GET /annotation/projects/:id/agreement (steward, reviewer, auditor) */
export interface AgreementStatistics {
  taskType: TaskType;
  items: number;
  annotations: number;
  annotators: number;
  fleissKappa: { value: number | null; items: number; ratersPerItem: number } | null;
  cohensKappa: { value: number | null; pairs: number } | null;
  krippendorffAlpha: number | null;
  exactMatchRate: number | null;
  meanTokenF1: number | null;
  perAnnotator: AnnotatorAgreement[];
}

/** GET /annotation/projects/:id/sets (each; steward, reviewer, engineer, auditor) */
export interface AnnotationSetRecord {
  setId: string;
  projectId: string;
  version: number;
  contentSha256: string;
  artifactKey: string;
  itemCount: number;
  leftOutCount: number;
  leftOut: { reason: LeaveOutReason; count: number }[];
  pendingCount: number;
  publishedBy: string;
  publishedAt: string;
}

export interface AnnotationSetItem {
  taskId: string;
  itemId: string;
  subjectId: string;
  image: string;
  answer: Answer;
  source: 'agreement' | 'adjudication' | 'import';
  agreement: number | null;
  annotators: string[];
  reviewers: string[];
}

/** GET /annotation/projects/:id/sets/:version (the parts the pages read) */
export interface AnnotationSetContent {
  version: number;
  items: AnnotationSetItem[];
  agreement?: AgreementStatistics;
}

/** POST /annotation/projects/:id/tasks/next, GET /annotation/tasks/:id, POST .../annotation: the annotator's own view (blind). */
export interface AssignmentView {
  taskId: string;
  projectId: string;
  itemId: string;
  imageKey: string;
  reportAssetId: string | null;
  reportKey: string | null;
  assignmentId: string;
  status: AssignmentStatus;
  answer: Answer | null;
  taskType: TaskType;
  labels: string[];
  guidelines: string;
  maxTextLength: number;
}

export interface PrincipalRef {
  id: string;
  displayName: string | null;
}

/** GET /annotation/projects/:id/review-queue (each; reviewer; records that the caller saw the answers) */
export interface ReviewQueueEntry {
  taskId: string;
  assignmentId: string;
  itemId: string;
  imageKey: string;
  reportKey: string | null;
  annotatorId: string;
  annotator: PrincipalRef;
  answer: Answer;
}

/** GET /annotation/projects/:id/adjudication-queue (each; reviewer) */
export interface AdjudicationQueueEntry {
  taskId: string;
  itemId: string;
  imageKey: string;
  reportKey: string | null;
  /** Null when a reviewer sent the item before enough answers were accepted to measure it. */
  agreement: number | null;
  /** The reviewer who sent the item; null when its accepted answers missed the threshold. */
  sentBy: string | null;
  /** Accepted answers; submitted ones too when a reviewer sent the item. */
  answers: { assignmentId: string; annotatorId: string; annotator: PrincipalRef; answer: Answer; status: 'accepted' | 'submitted' }[];
}

export type Verdict = { verdict: 'accepted' } | { verdict: 'rejected'; reason: string };

/** The answer of POST .../reviews and .../adjudication: the task's status afterwards. */
export interface TaskStatusAnswer {
  taskId: string;
  status: TaskStatus;
}

const id = encodeURIComponent;

/** What the pages need of the console's ApiClient (structurally), so this file names no DOM type. */
export interface RestClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  objectUrl(path: string): Promise<string>;
  text(path: string): Promise<string>;
}

/** The REST calls of the annotation pages, on the signed-in client. */
export function annotationApi(api: RestClient) {
  return {
    projects: () => api.get<ProjectRecord[]>('/annotation/projects'),
    project: (projectId: string) => api.get<ProjectSummary>(`/annotation/projects/${id(projectId)}`),
    datasetVersions: () => api.get<DatasetVersionRecord[]>('/annotation/dataset-versions'),
    agreement: (projectId: string) => api.get<AgreementStatistics>(`/annotation/projects/${id(projectId)}/agreement`),
    sets: (projectId: string) => api.get<AnnotationSetRecord[]>(`/annotation/projects/${id(projectId)}/sets`),
    set: (projectId: string, version: number) => api.get<AnnotationSetContent>(`/annotation/projects/${id(projectId)}/sets/${version}`),
    nextTask: (projectId: string) => api.post<{ task: AssignmentView | null }>(`/annotation/projects/${id(projectId)}/tasks/next`),
    submit: (taskId: string, answer: Answer) => api.post<AssignmentView>(`/annotation/tasks/${id(taskId)}/annotation`, { answer }),
    release: (taskId: string) => api.post<{ taskId: string; status: string }>(`/annotation/tasks/${id(taskId)}/release`),
    imageUrl: (taskId: string) => api.objectUrl(`/annotation/tasks/${id(taskId)}/image`),
    report: (taskId: string) => api.text(`/annotation/tasks/${id(taskId)}/report`),
    reviewQueue: (projectId: string) => api.get<ReviewQueueEntry[]>(`/annotation/projects/${id(projectId)}/review-queue`),
    review: (taskId: string, assignmentId: string, verdict: Verdict) =>
      api.post<TaskStatusAnswer>(`/annotation/tasks/${id(taskId)}/reviews`, { assignmentId, ...verdict }),
    sendToAdjudication: (taskId: string) => api.post<TaskStatusAnswer>(`/annotation/tasks/${id(taskId)}/send-to-adjudication`, {}),
    adjudicationQueue: (projectId: string) => api.get<AdjudicationQueueEntry[]>(`/annotation/projects/${id(projectId)}/adjudication-queue`),
    adjudicate: (taskId: string, decision: { chosenAssignmentId: string } | { answer: Answer }) =>
      api.post<TaskStatusAnswer>(`/annotation/tasks/${id(taskId)}/adjudication`, decision),
  };
}

export type AnnotationApi = ReturnType<typeof annotationApi>;

/** Who may call what (the API's @Roles), so a page asks only what the role may read. */
export const ANNOTATION_ROLES = {
  list: ['steward', 'annotator', 'reviewer', 'engineer', 'auditor'],
  agreement: ['steward', 'reviewer', 'auditor'],
  sets: ['steward', 'reviewer', 'engineer', 'auditor'],
  datasetVersions: ['steward', 'auditor'],
  annotate: ['annotator'],
  review: ['reviewer'],
};
