import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';
import { PRINCIPAL_ID_PATTERN } from './principal-id';
import { safeText } from './safe-input';
import { AnnotationSetRefV1, StoredFileV1, TRAINING_METHODS, TRAINING_PURPOSES } from './trainer.contracts';

/**
 * Published language of the registry context (log `registry`, topic `trellis.registry.v1`):
 * registered models and their immutable versions, aliases and every move of one, evaluations,
 * promotions with their gate verdicts and approval, consent flags and model-card edits. Lineage
 * reads it; the trainer hears RetrainRequested. Events name people by principal id only, data by
 * ids, hashes and counts; reasons and comments are refused when they carry personal data.
 */
export const REGISTRY_LOG = 'registry';

/** A registered model's name: what `trellis models` and aliases address (lowercase, URL safe). */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** An alias: `champion`, `candidate` or any custom name. Not a version number, so `v3` style names are refused. */
export const ALIAS_PATTERN = /^(?!v\d+$)[a-z][a-z0-9_-]{0,49}$/;
export const TAG_KEY_PATTERN = /^[a-z0-9][a-z0-9._:/-]{0,99}$/;

export const EVALUATION_METRICS = ['bleu', 'ciderD', 'vqaAccuracy', 'perplexity'] as const;
export type EvaluationMetric = (typeof EVALUATION_METRICS)[number];
/** Higher is better for every metric but perplexity. */
export const LOWER_IS_BETTER: ReadonlySet<EvaluationMetric> = new Set(['perplexity']);

export const PROMOTION_GATES = ['metrics', 'parameter-budget', 'consent', 'model-card'] as const;
export type PromotionGate = (typeof PROMOTION_GATES)[number];

export const EVALUATION_FAILURE_CODES = ['MODEL_UNREADABLE', 'DATA_UNREADABLE', 'NOTHING_TO_SCORE', 'WORKER_CRASHED', 'INTERNAL'] as const;

const uuid = z.string().uuid();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const count = z.number().int().nonnegative();
const principalId = z.string().regex(PRINCIPAL_ID_PATTERN);
const modelName = z.string().regex(MODEL_NAME_PATTERN);
const alias = z.string().regex(ALIAS_PATTERN);
/** Reasons, comments and descriptions outlive erasure in the log: no personal data in them. */
const note = (max: number) => safeText({ max, multiline: true, refusePersonalData: true });

export const ParameterCountV1 = z.object({ languageModel: count, visionEncoder: count, projector: count, total: count, trainable: count }).strict();
export type ParameterCountSummary = z.infer<typeof ParameterCountV1>;

export const MetricsV1 = z
  .object({
    bleu: z.number().min(0).max(100).nullable(),
    ciderD: z.number().min(0).nullable(),
    vqaAccuracy: z.number().min(0).max(100).nullable(),
    perplexity: z.number().min(1).nullable(),
  })
  .strict();
export type Metrics = z.infer<typeof MetricsV1>;

export const RegisteredModelCreatedV1 = z.object({ modelId: uuid, name: modelName, description: note(4000).nullable() }).strict();

/** What a version was trained from: the run's snapshot summary as the trainer froze it. */
export const VersionSnapshotV1 = z
  .object({
    manifest: StoredFileV1,
    merkleRoot: sha256,
    includedItems: count,
    includedSubjects: count,
    heldOutItems: count,
    consentAsOf: z.string().datetime({ offset: true }),
  })
  .strict();

export const ModelVersionRegisteredV1 = z
  .object({
    modelId: uuid,
    modelVersionId: uuid,
    /** 1, 2, ... within the registered model. */
    version: z.number().int().positive(),
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('training-run'), runId: uuid, requestedBy: principalId }).strict(),
      z.object({ kind: z.literal('manual') }).strict(),
    ]),
    method: z.enum(TRAINING_METHODS),
    baseModel: z.object({ baseModelId: uuid, manifestSha256: sha256 }).strict(),
    /** The adapter or the weights (and what came with them), content addressed. */
    files: z.array(StoredFileV1).min(1).max(50),
    snapshot: VersionSnapshotV1.nullable(),
    annotationSets: z.array(AnnotationSetRefV1).max(20),
    purpose: z.enum(TRAINING_PURPOSES).nullable(),
    parameters: ParameterCountV1,
  })
  .strict();

export const ModelVersionTaggedV1 = z
  .object({
    modelId: uuid,
    modelVersionId: uuid.nullable(),
    key: z.string().regex(TAG_KEY_PATTERN),
    value: safeText({ max: 500, refusePersonalData: true }).nullable(),
  })
  .strict();
export const ModelDescribedV1 = z.object({ modelId: uuid, modelVersionId: uuid.nullable(), description: note(4000).nullable() }).strict();
export const ModelVersionArchivedV1 = z.object({ modelId: uuid, modelVersionId: uuid, reason: note(2000) }).strict();

export const ALIAS_MOVE_KINDS = ['promotion', 'rollback', 'demotion'] as const;
export const AliasMovedV1 = z
  .object({
    modelId: uuid,
    alias,
    /** Null when the alias was removed (an automatic demotion with nothing to fall back to). */
    modelVersionId: uuid.nullable(),
    previousVersionId: uuid.nullable(),
    kind: z.enum(ALIAS_MOVE_KINDS),
    /** The promotion it completes (promotion), or null. */
    promotionId: uuid.nullable(),
    reason: note(2000),
  })
  .strict();

export const GateVerdictV1 = z.object({ gate: z.enum(PROMOTION_GATES), passed: z.boolean(), reason: z.string().min(1).max(4000) }).strict();
export type GateVerdict = z.infer<typeof GateVerdictV1>;

export const PromotionRequestedV1 = z
  .object({
    modelId: uuid,
    promotionId: uuid,
    alias,
    modelVersionId: uuid,
    /** Also the envelope's actor; kept in the data because the approval rule (not the requester) is decided from it. */
    requestedBy: principalId,
    /** The alias's holder when asked, compared with on the gates. */
    currentVersionId: uuid.nullable(),
    /** The evaluation set both versions are compared on (content hash of the annotation set). */
    evaluationSetSha256: sha256.nullable(),
    tolerance: z.number().min(0).max(100),
    reason: note(2000),
  })
  .strict();
export const PromotionGatesCheckedV1 = z
  .object({ modelId: uuid, promotionId: uuid, passed: z.boolean(), verdicts: z.array(GateVerdictV1).length(PROMOTION_GATES.length) })
  .strict();
export const PromotionApprovedV1 = z.object({ modelId: uuid, promotionId: uuid, approvedBy: principalId, comment: note(2000) }).strict();
export const PromotionRejectedV1 = z
  .object({ modelId: uuid, promotionId: uuid, by: z.enum(['gates', 'approver']), rejectedBy: principalId.nullable(), comment: note(2000) })
  .strict();

export const FLAG_TRIGGERS = ['consent-withdrawn', 'subject-erased'] as const;
export const ModelVersionFlaggedV1 = z
  .object({
    modelId: uuid,
    modelVersionId: uuid,
    trigger: z.enum(FLAG_TRIGGERS),
    /** Pseudonymous ids of the subjects whose items reached the snapshot and who withdrew or were erased. */
    subjectIds: z.array(uuid).min(1).max(1000),
    itemsAffected: z.number().int().positive(),
    snapshotSha256: sha256,
  })
  .strict();

export const MODEL_CARD_FIELDS = ['intendedUse', 'outOfScopeUse', 'factors', 'ethicalConsiderations', 'caveats', 'license'] as const;
export type ModelCardField = (typeof MODEL_CARD_FIELDS)[number];
/** The fields a card needs before its version may be promoted; the rest are welcome, not required. */
export const REQUIRED_MODEL_CARD_FIELDS: readonly ModelCardField[] = ['intendedUse', 'caveats', 'license'];
export const ModelCardEditedV1 = z
  .object({
    modelId: uuid,
    modelVersionId: uuid,
    /** 1 for the first edit of a version's card, counting on. */
    revision: z.number().int().positive(),
    fields: z
      .object({
        intendedUse: note(8000).nullable(),
        outOfScopeUse: note(8000).nullable(),
        factors: note(8000).nullable(),
        ethicalConsiderations: note(8000).nullable(),
        caveats: note(8000).nullable(),
        /** An SPDX identifier or `other`. */
        license: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}$/)
          .nullable(),
      })
      .strict(),
  })
  .strict();

/** Asks the trainer to retrain the version's run without the subjects who withdrew (trainer: retrain-excluding-withdrawn). */
export const RetrainRequestedV1 = z.object({ modelId: uuid, modelVersionId: uuid, runId: uuid }).strict();

export const EvaluationRequestedV1 = z
  .object({
    evaluationId: uuid,
    modelId: uuid,
    modelVersionId: uuid,
    annotationSet: AnnotationSetRefV1,
    seed: z.number().int().nonnegative(),
    maxNewTokens: z.number().int().positive().max(512),
  })
  .strict();
export const EvaluationStartedV1 = z.object({ evaluationId: uuid, attempt: z.number().int().positive(), backend: z.string().min(1).max(50) }).strict();
export const EvaluationCompletedV1 = z
  .object({
    evaluationId: uuid,
    modelId: uuid,
    modelVersionId: uuid,
    annotationSetSha256: sha256,
    itemCount: z.number().int().positive(),
    metrics: MetricsV1,
    /** Per-item predictions beside their references, for a person to read. */
    predictions: StoredFileV1,
    wallSeconds: z.number().nonnegative(),
  })
  .strict();
export const EvaluationFailedV1 = z.object({ evaluationId: uuid, code: z.enum(EVALUATION_FAILURE_CODES), reason: z.string().min(1).max(2000) }).strict();

type Ev<T extends string, S extends z.ZodTypeAny> = { type: T; data: z.infer<S> };
export type RegisteredModelCreated = Ev<'RegisteredModelCreated', typeof RegisteredModelCreatedV1>;
export type ModelVersionRegistered = Ev<'ModelVersionRegistered', typeof ModelVersionRegisteredV1>;
export type ModelVersionTagged = Ev<'ModelVersionTagged', typeof ModelVersionTaggedV1>;
export type ModelDescribed = Ev<'ModelDescribed', typeof ModelDescribedV1>;
export type ModelVersionArchived = Ev<'ModelVersionArchived', typeof ModelVersionArchivedV1>;
export type AliasMoved = Ev<'AliasMoved', typeof AliasMovedV1>;
export type PromotionRequested = Ev<'PromotionRequested', typeof PromotionRequestedV1>;
export type PromotionGatesChecked = Ev<'PromotionGatesChecked', typeof PromotionGatesCheckedV1>;
export type PromotionApproved = Ev<'PromotionApproved', typeof PromotionApprovedV1>;
export type PromotionRejected = Ev<'PromotionRejected', typeof PromotionRejectedV1>;
export type ModelVersionFlagged = Ev<'ModelVersionFlagged', typeof ModelVersionFlaggedV1>;
export type ModelCardEdited = Ev<'ModelCardEdited', typeof ModelCardEditedV1>;
export type RetrainRequested = Ev<'RetrainRequested', typeof RetrainRequestedV1>;
export type EvaluationRequested = Ev<'EvaluationRequested', typeof EvaluationRequestedV1>;
export type EvaluationStarted = Ev<'EvaluationStarted', typeof EvaluationStartedV1>;
export type EvaluationCompleted = Ev<'EvaluationCompleted', typeof EvaluationCompletedV1>;
export type EvaluationFailed = Ev<'EvaluationFailed', typeof EvaluationFailedV1>;

/** The events of one registered model's stream. */
export type RegisteredModelEvent =
  | RegisteredModelCreated
  | ModelVersionRegistered
  | ModelVersionTagged
  | ModelDescribed
  | ModelVersionArchived
  | AliasMoved
  | PromotionRequested
  | PromotionGatesChecked
  | PromotionApproved
  | PromotionRejected
  | ModelVersionFlagged
  | ModelCardEdited
  | RetrainRequested;
export type EvaluationEvent = EvaluationRequested | EvaluationStarted | EvaluationCompleted | EvaluationFailed;
export type RegistryEvent = RegisteredModelEvent | EvaluationEvent;

export const registryContracts = new EventContractRegistry<never>()
  .register({ type: 'RegisteredModelCreated', version: 1, schema: RegisteredModelCreatedV1 })
  .register({ type: 'ModelVersionRegistered', version: 1, schema: ModelVersionRegisteredV1 })
  .register({ type: 'ModelVersionTagged', version: 1, schema: ModelVersionTaggedV1 })
  .register({ type: 'ModelDescribed', version: 1, schema: ModelDescribedV1 })
  .register({ type: 'ModelVersionArchived', version: 1, schema: ModelVersionArchivedV1 })
  .register({ type: 'AliasMoved', version: 1, schema: AliasMovedV1 })
  .register({ type: 'PromotionRequested', version: 1, schema: PromotionRequestedV1 })
  .register({ type: 'PromotionGatesChecked', version: 1, schema: PromotionGatesCheckedV1 })
  .register({ type: 'PromotionApproved', version: 1, schema: PromotionApprovedV1 })
  .register({ type: 'PromotionRejected', version: 1, schema: PromotionRejectedV1 })
  .register({ type: 'ModelVersionFlagged', version: 1, schema: ModelVersionFlaggedV1 })
  .register({ type: 'ModelCardEdited', version: 1, schema: ModelCardEditedV1 })
  .register({ type: 'RetrainRequested', version: 1, schema: RetrainRequestedV1 })
  .register({ type: 'EvaluationRequested', version: 1, schema: EvaluationRequestedV1 })
  .register({ type: 'EvaluationStarted', version: 1, schema: EvaluationStartedV1 })
  .register({ type: 'EvaluationCompleted', version: 1, schema: EvaluationCompletedV1 })
  .register({ type: 'EvaluationFailed', version: 1, schema: EvaluationFailedV1 });
