// The registry's REST answers as the console reads them (services/registry/src/models/model.queries.ts).

export interface StoredFile {
  name: string;
  key: string;
  sha256: string;
  size: number;
}

export interface ModelView {
  modelId: string;
  name: string;
  description: string | null;
  tags: Record<string, string>;
  /** Alias → version number. */
  aliases: Record<string, number>;
  latestVersion: number | null;
  createdBy: string;
  createdAt: string;
}

export interface VersionView {
  modelVersionId: string;
  modelId: string;
  modelName: string;
  version: number;
  source: { kind: string; runId?: string; requestedBy?: string };
  method: string;
  baseModel: { baseModelId: string; manifestSha256: string };
  files: StoredFile[];
  snapshot: {
    manifest: StoredFile;
    merkleRoot: string;
    consentAsOf: string;
    includedItems: number;
    includedSubjects: number;
    heldOutItems: number;
  } | null;
  annotationSets: { setId: string; projectId: string; version: number; contentSha256: string }[];
  purpose: string | null;
  parameters: { languageModel: number; visionEncoder: number; projector: number; total: number; trainable: number };
  description: string | null;
  tags: Record<string, string>;
  aliases: string[];
  archived: { at: string; reason: string } | null;
  /** Subjects of the snapshot who withdrew or were erased since: the version needs retraining. */
  flag: { subjects: number; items: number } | null;
  retrainRequestedAt: string | null;
  registeredBy: string;
  registeredAt: string;
}

export const METRICS = ['bleu', 'ciderD', 'vqaAccuracy', 'perplexity'] as const;
export type MetricName = (typeof METRICS)[number];
export type Metrics = Record<MetricName, number | null>;

export interface EvaluationView {
  evaluationId: string;
  modelId: string;
  modelVersionId: string;
  status: 'requested' | 'running' | 'completed' | 'failed';
  annotationSet: { setId: string; contentSha256: string };
  attempts: number;
  metrics: Metrics | null;
  itemCount: number | null;
  predictions: StoredFile | null;
  failure: { code: string; reason: string } | null;
  requestedBy: string;
  requestedAt: string;
  finishedAt: string | null;
}

export interface GateVerdict {
  gate: 'metrics' | 'parameter-budget' | 'consent' | 'model-card';
  passed: boolean;
  reason: string;
}

export interface PromotionView {
  promotionId: string;
  modelId: string;
  alias: string;
  modelVersionId: string;
  currentVersionId: string | null;
  evaluationSetSha256: string | null;
  tolerance: number;
  requestedBy: string;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  verdicts: GateVerdict[] | null;
  decidedBy: string | null;
  comment: string | null;
  requestedAt: string;
  decidedAt: string | null;
}

/** POST /registry/promotions */
export interface PromotionRequestBody {
  model: string;
  version: number;
  alias: string;
  reason: string;
  tolerance?: number;
  evaluationSetSha256?: string;
}

/** POST /registry/promotions/:id/approve | reject */
export interface DecisionBody {
  comment: string;
}
