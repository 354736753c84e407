import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';

/**
 * Published language of the trainer context (log `trainer`, topic `trellis.trainer.v1`). The
 * registry and lineage read what a run was trained on and what it produced; they must not import
 * the trainer, so the contract lives here. Runs name data only by ids, content hashes, counts and
 * storage keys: the snapshot manifest (an artifact) holds the item list, never an event.
 */
export const TRAINER_LOG = 'trainer';

export const TRAINING_METHODS = ['lora', 'qlora', 'distill', 'full'] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];

/** The consent purpose a run's data is used under; a subject must permit it to be in the snapshot. */
export const TRAINING_PURPOSES = ['model-training', 'research'] as const;
export type TrainingPurpose = (typeof TRAINING_PURPOSES)[number];

/** Why an item of a requested annotation set is not in a snapshot. */
export const SNAPSHOT_EXCLUSION_REASONS = [
  'no-consent',
  'consent-withdrawn',
  'consent-denied',
  'consent-expired',
  'subject-erased',
  'unknown-subject',
  /** The subject has items in the evaluation sets: training on them too would leak into the held-out loss. */
  'subject-in-evaluation-set',
] as const;
export type SnapshotExclusionReason = (typeof SNAPSHOT_EXCLUSION_REASONS)[number];

/** Why a run failed: a code the registry and auditors can count on, beside a message for people. */
export const TRAINING_FAILURE_CODES = [
  'NOTHING_TO_TRAIN_ON',
  'DIVERGED',
  'BASE_MODEL_INVALID',
  'DATA_UNREADABLE',
  'WORKER_CRASHED',
  'OUT_OF_ATTEMPTS',
  'INTERNAL',
] as const;
export type TrainingFailureCode = (typeof TRAINING_FAILURE_CODES)[number];

const uuid = z.string().uuid();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const storageKey = z.string().min(1).max(1024);
const finite = z.number().finite();
const count = z.number().int().nonnegative();

/** A stored file, content addressed: what lineage follows. */
export const StoredFileV1 = z.object({ name: z.string().min(1).max(200), key: storageKey, sha256, size: count }).strict();
export type StoredFile = z.infer<typeof StoredFileV1>;

export const AnnotationSetRefV1 = z.object({ setId: uuid, projectId: uuid, version: z.number().int().positive(), contentSha256: sha256 }).strict();
export type AnnotationSetRef = z.infer<typeof AnnotationSetRefV1>;

export const LoraSettingsV1 = z
  .object({
    rank: z.number().int().positive(),
    alpha: z.number().positive(),
    dropout: z.number().min(0).lt(1),
    targetModules: z.array(z.string().min(1).max(200)).min(1).max(64),
    rslora: z.boolean(),
  })
  .strict();

export const HyperparametersV1 = z
  .object({
    /** Null for full fine-tuning and distillation. */
    lora: LoraSettingsV1.nullable(),
    learningRate: z.number().positive(),
    warmupSteps: count,
    schedule: z.enum(['constant', 'cosine']),
    weightDecay: z.number().min(0),
    batchSize: z.number().int().positive(),
    gradAccumulation: z.number().int().positive(),
    maxGradNorm: z.number().positive().nullable(),
    /** Optimizer steps; resolved from epochs at freeze time when the request gave epochs. */
    steps: z.number().int().positive().nullable(),
    epochs: z.number().int().positive().nullable(),
    seed: z.number().int().nonnegative(),
    /** Held-out loss every N steps (and at the start and end). */
    evalEvery: z.number().int().positive(),
    checkpointEvery: z.number().int().positive(),
    /** Distillation: softmax temperature and the weight of the soft (teacher) loss. */
    distillation: z
      .object({ temperature: z.number().positive(), alpha: z.number().min(0).max(1) })
      .strict()
      .nullable(),
  })
  .strict();
export type Hyperparameters = z.infer<typeof HyperparametersV1>;

export const EvaluationPlanV1 = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('held-out'), fraction: z.number().gt(0).lt(1) }).strict(),
  z.object({ kind: z.literal('sets'), annotationSets: z.array(AnnotationSetRefV1).min(1).max(20) }).strict(),
]);
export type EvaluationPlan = z.infer<typeof EvaluationPlanV1>;

export const TrainingRequestedV1 = z
  .object({
    runId: uuid,
    method: z.enum(TRAINING_METHODS),
    baseModel: z.object({ baseModelId: uuid, manifestSha256: sha256 }).strict(),
    /** Distillation only. */
    teacher: z.object({ baseModelId: uuid, manifestSha256: sha256 }).strict().nullable(),
    annotationSets: z.array(AnnotationSetRefV1).min(1).max(20),
    evaluation: EvaluationPlanV1,
    hyperparameters: HyperparametersV1,
    purpose: z.enum(TRAINING_PURPOSES),
    /** Set by retrain-excluding-withdrawn: the run this one replaces. */
    replaces: uuid.nullable(),
    /**
     * The registered model the registry files the run's version under (MODEL_NAME_PATTERN of the
     * registry contracts); absent or null: named after the base model and method. Optional:
     * added after v1 shipped.
     */
    modelName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/)
      .nullable()
      .optional(),
  })
  .strict();

export const SnapshotSummaryV1 = z
  .object({
    manifest: StoredFileV1,
    /** RFC 6962 Merkle root over the included items in manifest order; an item's leaf is the canonical JSON of its imageSha256, itemId, setId, subjectId and textSha256. */
    merkleRoot: sha256,
    includedItems: count,
    excludedItems: count,
    includedSubjects: count,
    excluded: z.array(z.object({ reason: z.enum(SNAPSHOT_EXCLUSION_REASONS), count: z.number().int().positive() }).strict()),
    trainItems: count,
    heldOutItems: count,
    trainSubjects: count,
    heldOutSubjects: count,
    /** The moment consent was evaluated at. */
    consentAsOf: z.string().datetime({ offset: true }),
  })
  .strict();

export const TrainingSnapshotFrozenV1 = z
  .object({
    runId: uuid,
    snapshot: SnapshotSummaryV1,
    /** Optimizer steps the run will take (resolved from epochs if the request gave epochs). */
    totalSteps: z.number().int().positive(),
    /** For a retrain: what this snapshot leaves out of the replaced run's. */
    replaces: z.object({ runId: uuid, snapshotSha256: sha256, removedItems: count, removedSubjects: count }).strict().nullable(),
  })
  .strict();

export const TrainingStartedV1 = z
  .object({
    runId: uuid,
    /** 1 for the first start; a resumed run counts on. */
    attempt: z.number().int().positive(),
    /** Which trainer process holds the run (host:pid:random), not a person. */
    worker: z.string().min(1).max(200),
    backend: z.string().min(1).max(50),
    device: z.string().min(1).max(200),
    notes: z.array(z.string().max(500)).max(20),
    resumedFromStep: count.nullable(),
  })
  .strict();

export const TrainingProgressedV1 = z
  .object({
    runId: uuid,
    step: z.number().int().positive(),
    totalSteps: z.number().int().positive(),
    loss: finite,
    learningRate: finite,
    tokensPerSecond: finite,
    tokensSeen: count,
    heldOutLoss: finite.nullable(),
  })
  .strict();

export const TrainingCheckpointedV1 = z.object({ runId: uuid, step: z.number().int().positive(), files: z.array(StoredFileV1).min(1).max(20) }).strict();

export const TrainingCompletedV1 = z
  .object({
    runId: uuid,
    artifacts: z.array(StoredFileV1).min(1).max(50),
    steps: z.number().int().positive(),
    finalTrainLoss: finite,
    finalHeldOutLoss: finite.nullable(),
    /** The base model's held-out loss before the first step, to compare with. */
    baseHeldOutLoss: finite.nullable(),
    tokensSeen: count,
    wallSeconds: z.number().nonnegative(),
    backend: z.string().min(1).max(50),
  })
  .strict();

export const TrainingFailedV1 = z
  .object({ runId: uuid, code: z.enum(TRAINING_FAILURE_CODES), reason: z.string().min(1).max(2000), step: count.nullable() })
  .strict();

export const TrainingCancelRequestedV1 = z.object({ runId: uuid }).strict();
export const TrainingCancelledV1 = z.object({ runId: uuid, step: count.nullable() }).strict();

export const BASE_MODEL_PRESETS = ['tiny'] as const;

export const BaseModelRegisteredV1 = z
  .object({
    baseModelId: uuid,
    /** A preset the platform pre-trained, or null for a checkpoint brought by its users. */
    preset: z.enum(BASE_MODEL_PRESETS).nullable(),
    files: z.array(StoredFileV1).min(1).max(200),
    /** SHA-256 of the canonical JSON of `files`: one hash that names the whole checkpoint. */
    manifestSha256: sha256,
    architecture: z
      .object({
        modelType: z.string().min(1).max(50),
        parameters: count,
        vocabSize: z.number().int().positive(),
        hiddenSize: z.number().int().positive(),
        layers: z.number().int().positive(),
        imageSize: z.number().int().positive(),
        /** Every linear layer's name, so that a run's LoRA targets are checked when it is requested. */
        linearModules: z.array(z.string().min(1).max(300)).max(5000),
      })
      .strict(),
    pretraining: z
      .object({ steps: count, seed: z.number().int().nonnegative(), initialHeldOutLoss: finite, finalHeldOutLoss: finite, backend: z.string().min(1).max(50) })
      .strict()
      .nullable(),
  })
  .strict();

type Ev<T extends string, S extends z.ZodTypeAny> = { type: T; data: z.infer<S> };
export type TrainingRequested = Ev<'TrainingRequested', typeof TrainingRequestedV1>;
export type TrainingSnapshotFrozen = Ev<'TrainingSnapshotFrozen', typeof TrainingSnapshotFrozenV1>;
export type TrainingStarted = Ev<'TrainingStarted', typeof TrainingStartedV1>;
export type TrainingProgressed = Ev<'TrainingProgressed', typeof TrainingProgressedV1>;
export type TrainingCheckpointed = Ev<'TrainingCheckpointed', typeof TrainingCheckpointedV1>;
export type TrainingCompleted = Ev<'TrainingCompleted', typeof TrainingCompletedV1>;
export type TrainingFailed = Ev<'TrainingFailed', typeof TrainingFailedV1>;
export type TrainingCancelRequested = Ev<'TrainingCancelRequested', typeof TrainingCancelRequestedV1>;
export type TrainingCancelled = Ev<'TrainingCancelled', typeof TrainingCancelledV1>;
export type BaseModelRegistered = Ev<'BaseModelRegistered', typeof BaseModelRegisteredV1>;

export type TrainingRunEvent =
  | TrainingRequested
  | TrainingSnapshotFrozen
  | TrainingStarted
  | TrainingProgressed
  | TrainingCheckpointed
  | TrainingCompleted
  | TrainingFailed
  | TrainingCancelRequested
  | TrainingCancelled;
export type TrainerEvent = TrainingRunEvent | BaseModelRegistered;

export const trainerContracts = new EventContractRegistry<never>()
  .register({ type: 'TrainingRequested', version: 1, schema: TrainingRequestedV1 })
  .register({ type: 'TrainingSnapshotFrozen', version: 1, schema: TrainingSnapshotFrozenV1 })
  .register({ type: 'TrainingStarted', version: 1, schema: TrainingStartedV1 })
  .register({ type: 'TrainingProgressed', version: 1, schema: TrainingProgressedV1 })
  .register({ type: 'TrainingCheckpointed', version: 1, schema: TrainingCheckpointedV1 })
  .register({ type: 'TrainingCompleted', version: 1, schema: TrainingCompletedV1 })
  .register({ type: 'TrainingFailed', version: 1, schema: TrainingFailedV1 })
  .register({ type: 'TrainingCancelRequested', version: 1, schema: TrainingCancelRequestedV1 })
  .register({ type: 'TrainingCancelled', version: 1, schema: TrainingCancelledV1 })
  .register({ type: 'BaseModelRegistered', version: 1, schema: BaseModelRegisteredV1 });
