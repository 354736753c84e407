// The trainer's REST answers and request body as the console uses them
// (services/trainer/src/runs/run.queries.ts, run-request.ts).

export interface StoredFile {
  name: string;
  key: string;
  sha256: string;
  size: number;
}

export type RunStatus = 'requested' | 'frozen' | 'running' | 'completed' | 'failed' | 'cancelled';
export const RUN_STATUSES: RunStatus[] = ['requested', 'frozen', 'running', 'completed', 'failed', 'cancelled'];
export const TRAINING_METHODS = ['lora', 'qlora', 'full', 'distill'] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];

export interface SetRef {
  setId: string;
  projectId: string;
  version: number;
  contentSha256: string;
}

export interface RunProgress {
  runId: string;
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  tokensPerSecond: number;
  tokensSeen: number;
  heldOutLoss: number | null;
}

/** One report of GET /training/runs/:runId/progress (the whole loss curve). */
export type RunProgressPoint = Omit<RunProgress, 'runId'> & { at: string };

export interface SnapshotSummary {
  manifest: StoredFile;
  merkleRoot: string;
  consentAsOf: string;
  includedItems: number;
  includedSubjects: number;
  trainItems: number;
  trainSubjects: number;
  heldOutItems: number;
  heldOutSubjects: number;
  excludedItems: number;
  /** Items left out of the snapshot, counted by reason (consent-withdrawn, no-consent, erased, …). */
  excluded: { reason: string; count: number }[];
}

export interface RunOutcome {
  runId: string;
  steps?: number;
  backend?: string;
  artifacts?: StoredFile[];
  tokensSeen?: number;
  wallSeconds?: number;
  finalTrainLoss?: number;
  finalHeldOutLoss?: number | null;
  baseHeldOutLoss?: number | null;
  /** A failed run. */
  code?: string;
  reason?: string;
  step?: number | null;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  method: string;
  request: {
    runId: string;
    method: string;
    purpose: string;
    modelName: string | null;
    baseModel: { baseModelId: string; manifestSha256: string };
    teacher: { baseModelId: string; manifestSha256: string } | null;
    annotationSets: SetRef[];
    evaluation: { kind: 'held-out'; fraction: number } | { kind: 'sets'; annotationSets: SetRef[] };
    hyperparameters: Record<string, unknown> & { steps: number | null; epochs: number | null; learningRate: number; seed: number };
    replaces: unknown;
  };
  requestedBy: string;
  requestedAt: string;
  snapshot: SnapshotSummary | null;
  replaces: { runId: string; removed?: unknown } | null;
  step: number;
  totalSteps: number | null;
  lastProgress: RunProgress | null;
  checkpoint: { step: number; files: StoredFile[] } | null;
  attempts: number;
  backend: string | null;
  cancelRequested: boolean;
  outcome: RunOutcome | null;
  updatedAt: string;
}

export interface BaseModelView {
  baseModelId: string;
  preset: string | null;
  manifestSha256: string;
  registeredAt: string;
}

export interface AnnotationSetView {
  setId: string;
  projectId: string;
  version: number;
  contentSha256?: string;
}

/** POST /training/runs (only what the console's form sends; the API has defaults for the rest). */
export interface RunRequestBody {
  baseModelId: string;
  method: TrainingMethod;
  teacherModelId?: string;
  annotationSets: ({ setId: string } | { projectId: string; version: number })[];
  evaluation?: { heldOutFraction: number };
  modelName?: string;
  hyperparameters?: { steps?: number; learningRate?: number; seed?: number; loraRank?: number };
}

export const isActive = (status: RunStatus) => status === 'requested' || status === 'frozen' || status === 'running';
