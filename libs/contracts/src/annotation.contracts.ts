import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';

/**
 * Published language of the annotation context (log `annotation`, topic `trellis.annotation.v1`).
 * The trainer reads annotation sets and lineage reads who annotated what; both must not import
 * the annotation service, so the contract lives here. People appear only as pseudonymous
 * principal ids, subjects only as pseudonymous subject ids, images only as storage keys.
 */
export const ANNOTATION_LOG = 'annotation';

export const TASK_TYPES = ['caption', 'vqa', 'classification'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Why a task was cancelled or an item left out of an annotation set. */
export const LEAVE_OUT_REASONS = ['consent-withdrawn:human-annotation', 'consent-withdrawn:model-training', 'subject-erased'] as const;
export type LeaveOutReason = (typeof LEAVE_OUT_REASONS)[number];

export const EXCHANGE_FORMATS = ['llava', 'coco', 'jsonl'] as const;
export type ExchangeFormat = (typeof EXCHANGE_FORMATS)[number];

const uuid = z.string().uuid();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const principalId = z.string().min(1).max(100);
const storageKey = z.string().min(1).max(1024);
const text = (max: number) => z.string().min(1).max(max);

/** The longest caption, question or answer any project may allow. */
export const MAX_TEXT_LENGTH = 4000;

export const AnswerV1 = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('caption'), caption: text(MAX_TEXT_LENGTH) }).strict(),
  z
    .object({
      kind: z.literal('vqa'),
      pairs: z
        .array(z.object({ question: text(MAX_TEXT_LENGTH), answer: text(MAX_TEXT_LENGTH) }).strict())
        .min(1)
        .max(20),
    })
    .strict(),
  z.object({ kind: z.literal('classification'), label: text(200) }).strict(),
]);
export type Answer = z.infer<typeof AnswerV1>;

export const AnnotationProjectCreatedV1 = z
  .object({
    projectId: uuid,
    name: text(200),
    datasetId: uuid,
    datasetVersion: z.number().int().positive(),
    taskType: z.enum(TASK_TYPES),
    /** The label set of a classification project; empty otherwise. */
    labels: z.array(text(200)).max(500),
    guidelines: text(20_000),
    annotationsPerItem: z.number().int().min(1).max(10),
    /** Item agreement (0..1) at or above which an item is accepted without adjudication. */
    agreementThreshold: z.number().min(0).max(1),
    maxTextLength: z.number().int().min(1).max(MAX_TEXT_LENGTH),
  })
  .strict();

/**
 * V2 adds the re-annotation rule: whether an item whose annotation was rejected may go back to
 * the same annotator when no other annotator of the project is left for it. V1 projects never
 * allowed it (upcast to false).
 */
export const AnnotationProjectCreatedV2 = AnnotationProjectCreatedV1.extend({ reassignRejectedToSameAnnotator: z.boolean() }).strict();

/** A steward retired the project: it hands out no more tasks; what was done stays publishable. */
export const AnnotationProjectArchivedV1 = z.object({ projectId: uuid }).strict();

export const AnnotationTaskCreatedV1 = z
  .object({
    taskId: uuid,
    projectId: uuid,
    /** The image asset this task is about. */
    itemId: uuid,
    subjectId: uuid,
    imageKey: storageKey,
    /** The redacted report describing the image, shown to annotators as context. */
    reportAssetId: uuid.nullable(),
    reportKey: storageKey.nullable(),
  })
  .strict();

export const TaskAssignedV1 = z.object({ taskId: uuid, projectId: uuid, assignmentId: uuid, annotatorId: principalId }).strict();

export const AnnotationSubmittedV1 = z.object({ taskId: uuid, projectId: uuid, assignmentId: uuid, annotatorId: principalId, answer: AnswerV1 }).strict();

export const AnnotationReviewedV1 = z
  .object({
    taskId: uuid,
    projectId: uuid,
    assignmentId: uuid,
    reviewerId: principalId,
    verdict: z.enum(['accepted', 'rejected']),
    /** Required when rejected. */
    reason: z.string().min(1).max(2000).nullable(),
  })
  .strict();

/** Enough accepted annotations agreed: the item is final without adjudication. */
export const ItemAcceptedV1 = z
  .object({ taskId: uuid, projectId: uuid, answer: AnswerV1, agreement: z.number().min(0).max(1), assignmentIds: z.array(uuid) })
  .strict();

export const ItemSentToAdjudicationV1 = z
  .object({ taskId: uuid, projectId: uuid, agreement: z.number().min(0).max(1), threshold: z.number().min(0).max(1) })
  .strict();

/**
 * v2: a reviewer may also send an item to adjudication (`requestedBy`), before enough answers
 * are accepted to measure agreement (`agreement` null then); null `requestedBy` is the automatic
 * case, accepted answers that missed the threshold.
 */
export const ItemSentToAdjudicationV2 = z
  .object({
    taskId: uuid,
    projectId: uuid,
    agreement: z.number().min(0).max(1).nullable(),
    threshold: z.number().min(0).max(1),
    requestedBy: principalId.nullable(),
  })
  .strict();

export const ItemAdjudicatedV1 = z
  .object({
    taskId: uuid,
    projectId: uuid,
    adjudicatorId: principalId,
    answer: AnswerV1,
    /** The annotation the adjudicator chose, or null when they wrote the answer themselves. */
    chosenAssignmentId: uuid.nullable(),
  })
  .strict();

/** A final answer labelled elsewhere, imported onto this item. */
export const ItemImportedV1 = z.object({ taskId: uuid, projectId: uuid, answer: AnswerV1, format: z.enum(EXCHANGE_FORMATS), importId: uuid }).strict();

/** An unfinished assignment given back (by its annotator) or expired (by a steward): its slot reopens. */
export const TaskReleasedV1 = z
  .object({ taskId: uuid, projectId: uuid, assignmentId: uuid, annotatorId: principalId, reason: z.enum(['released', 'expired']) })
  .strict();

/** Someone was shown the item's submitted answers (the review queue): they may never annotate it (blind annotation). */
export const AnswersViewedV1 = z.object({ taskId: uuid, projectId: uuid, viewerId: principalId }).strict();

export const TaskCancelledV1 = z.object({ taskId: uuid, projectId: uuid, reason: z.enum(LEAVE_OUT_REASONS) }).strict();

export const AnnotationSetPublishedV1 = z
  .object({
    setId: uuid,
    projectId: uuid,
    version: z.number().int().positive(),
    datasetId: uuid,
    datasetVersion: z.number().int().positive(),
    /** SHA-256 of the canonical JSON of the set (which is also the stored artifact). */
    contentSha256: sha256,
    itemCount: z.number().int().nonnegative(),
    leftOutCount: z.number().int().nonnegative(),
    leftOut: z.array(z.object({ reason: z.enum(LEAVE_OUT_REASONS), count: z.number().int().positive() }).strict()),
    /** Items of the project not final yet (open or in adjudication), hence not in the set. */
    pendingCount: z.number().int().nonnegative(),
    artifact: z.object({ area: z.literal('artifacts'), key: storageKey, sha256 }).strict(),
  })
  .strict();

type Ev<T extends string, S extends z.ZodTypeAny> = { type: T; data: z.infer<S> };
export type AnnotationProjectCreated = Ev<'AnnotationProjectCreated', typeof AnnotationProjectCreatedV2>;
export type AnnotationProjectArchived = Ev<'AnnotationProjectArchived', typeof AnnotationProjectArchivedV1>;
export type AnnotationTaskCreated = Ev<'AnnotationTaskCreated', typeof AnnotationTaskCreatedV1>;
export type TaskAssigned = Ev<'TaskAssigned', typeof TaskAssignedV1>;
export type AnnotationSubmitted = Ev<'AnnotationSubmitted', typeof AnnotationSubmittedV1>;
export type AnnotationReviewed = Ev<'AnnotationReviewed', typeof AnnotationReviewedV1>;
export type ItemAccepted = Ev<'ItemAccepted', typeof ItemAcceptedV1>;
export type ItemSentToAdjudication = Ev<'ItemSentToAdjudication', typeof ItemSentToAdjudicationV2>;
export type ItemAdjudicated = Ev<'ItemAdjudicated', typeof ItemAdjudicatedV1>;
export type ItemImported = Ev<'ItemImported', typeof ItemImportedV1>;
export type TaskReleased = Ev<'TaskReleased', typeof TaskReleasedV1>;
export type TaskCancelled = Ev<'TaskCancelled', typeof TaskCancelledV1>;
export type AnswersViewed = Ev<'AnswersViewed', typeof AnswersViewedV1>;
export type AnnotationSetPublished = Ev<'AnnotationSetPublished', typeof AnnotationSetPublishedV1>;

export type AnnotationProjectEvent = AnnotationProjectCreated | AnnotationProjectArchived | AnnotationSetPublished;
export type AnnotationTaskEvent =
  | AnnotationTaskCreated
  | TaskAssigned
  | TaskReleased
  | AnnotationSubmitted
  | AnnotationReviewed
  | ItemAccepted
  | ItemSentToAdjudication
  | ItemAdjudicated
  | ItemImported
  | AnswersViewed
  | TaskCancelled;
export type AnnotationEvent = AnnotationProjectEvent | AnnotationTaskEvent;

export const annotationContracts = new EventContractRegistry<never>()
  .register({ type: 'AnnotationProjectCreated', version: 1, schema: AnnotationProjectCreatedV1 })
  .register({ type: 'AnnotationProjectCreated', version: 2, schema: AnnotationProjectCreatedV2 })
  .registerUpcaster('AnnotationProjectCreated', 1, (d) => ({ ...(d as object), reassignRejectedToSameAnnotator: false }))
  .register({ type: 'AnnotationProjectArchived', version: 1, schema: AnnotationProjectArchivedV1 })
  .register({ type: 'AnnotationTaskCreated', version: 1, schema: AnnotationTaskCreatedV1 })
  .register({ type: 'TaskAssigned', version: 1, schema: TaskAssignedV1 })
  .register({ type: 'AnnotationSubmitted', version: 1, schema: AnnotationSubmittedV1 })
  .register({ type: 'AnnotationReviewed', version: 1, schema: AnnotationReviewedV1 })
  .register({ type: 'ItemAccepted', version: 1, schema: ItemAcceptedV1 })
  .register({ type: 'ItemSentToAdjudication', version: 1, schema: ItemSentToAdjudicationV1 })
  .register({ type: 'ItemSentToAdjudication', version: 2, schema: ItemSentToAdjudicationV2 })
  .registerUpcaster('ItemSentToAdjudication', 1, (d) => ({ ...(d as object), requestedBy: null }))
  .register({ type: 'ItemAdjudicated', version: 1, schema: ItemAdjudicatedV1 })
  .register({ type: 'ItemImported', version: 1, schema: ItemImportedV1 })
  .register({ type: 'TaskCancelled', version: 1, schema: TaskCancelledV1 })
  .register({ type: 'TaskReleased', version: 1, schema: TaskReleasedV1 })
  .register({ type: 'AnswersViewed', version: 1, schema: AnswersViewedV1 })
  .register({ type: 'AnnotationSetPublished', version: 1, schema: AnnotationSetPublishedV1 });
