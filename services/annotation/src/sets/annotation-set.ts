import { createHash } from 'node:crypto';
import { Answer, canonicalJson, LEAVE_OUT_REASONS, LeaveOutReason, TaskType } from '@trellis/contracts';
import { AgreementStatistics, agreementStatistics } from '../agreement/agreement-statistics';

export const ANNOTATION_SET_SCHEMA = 'trellis.annotation-set.v1';

export interface SetItem {
  itemId: string;
  taskId: string;
  /** Pseudonymous; lets the trainer check consent again when it freezes a snapshot. */
  subjectId: string;
  image: string;
  answer: Answer;
  source: 'agreement' | 'adjudication' | 'import';
  /** Pseudonymous principal ids. */
  annotators: string[];
  reviewers: string[];
  agreement: number | null;
}

export interface AnnotationSetContent {
  schema: typeof ANNOTATION_SET_SCHEMA;
  projectId: string;
  version: number;
  datasetId: string;
  datasetVersion: number;
  taskType: TaskType;
  labels: string[];
  items: SetItem[];
  leftOutCount: number;
  leftOut: { reason: LeaveOutReason; count: number }[];
  pendingCount: number;
  agreement: AgreementStatistics;
}

/** A task with everything the set needs, as the use case reads it. */
export interface TaskForSet {
  taskId: string;
  itemId: string;
  subjectId: string;
  imageKey: string;
  status: 'open' | 'adjudication' | 'final' | 'cancelled';
  finalAnswer: Answer | null;
  finalSource: SetItem['source'] | null;
  agreement: number | null;
  adjudicatorId: string | null;
  assignments: { annotatorId: string; status: string; answer: Answer | null; reviewerId: string | null }[];
}

/** When a subject is excluded for several reasons, the set reports the strongest. */
const REASON_ORDER: LeaveOutReason[] = ['subject-erased', 'consent-withdrawn:human-annotation', 'consent-withdrawn:model-training'];

const uniqueSorted = (xs: (string | null)[]) => [...new Set(xs.filter((x): x is string => x !== null))].sort();

/**
 * The content of an annotation set: every final item whose subject is not excluded, sorted by
 * item id, with who worked on it and the agreement statistics, plus how many items were left
 * out and why. No timestamps, so equal inputs give equal bytes and an equal hash.
 */
export function buildAnnotationSet(input: {
  projectId: string;
  version: number;
  datasetId: string;
  datasetVersion: number;
  taskType: TaskType;
  labels: string[];
  tasks: TaskForSet[];
  excluded: Map<string, LeaveOutReason[]>;
  /** Items of the dataset version that got no task (their subject was excluded before the version arrived). */
  untasked?: { itemId: string; subjectId: string }[];
}): { content: AnnotationSetContent; json: string; sha256: string } {
  const leftOut = new Map<LeaveOutReason, number>();
  const items: SetItem[] = [];
  const included: TaskForSet[] = [];
  let pendingCount = 0;
  for (const u of input.untasked ?? []) {
    const reasons = input.excluded.get(u.subjectId);
    if (!reasons?.length) continue;
    const reason = REASON_ORDER.find((r) => reasons.includes(r))!;
    leftOut.set(reason, (leftOut.get(reason) ?? 0) + 1);
  }
  for (const t of input.tasks) {
    const reasons = input.excluded.get(t.subjectId);
    if (reasons?.length) {
      const reason = REASON_ORDER.find((r) => reasons.includes(r))!;
      leftOut.set(reason, (leftOut.get(reason) ?? 0) + 1);
      continue;
    }
    if (t.status !== 'final' || !t.finalAnswer || !t.finalSource) {
      if (t.status === 'open' || t.status === 'adjudication') pendingCount += 1;
      continue;
    }
    included.push(t);
    items.push({
      itemId: t.itemId,
      taskId: t.taskId,
      subjectId: t.subjectId,
      image: t.imageKey,
      answer: t.finalAnswer,
      source: t.finalSource,
      annotators: uniqueSorted(t.assignments.filter((a) => a.answer !== null).map((a) => a.annotatorId)),
      reviewers: uniqueSorted([...t.assignments.map((a) => a.reviewerId), t.adjudicatorId]),
      agreement: t.agreement,
    });
  }
  items.sort((a, b) => a.itemId.localeCompare(b.itemId));
  const agreement = agreementStatistics(
    input.taskType,
    included.map((t) => ({
      itemId: t.itemId,
      annotations: t.assignments.filter((a) => a.status === 'accepted' && a.answer).map((a) => ({ annotatorId: a.annotatorId, answer: a.answer! })),
      final: t.finalAnswer,
    })),
  );
  const content: AnnotationSetContent = {
    schema: ANNOTATION_SET_SCHEMA,
    projectId: input.projectId,
    version: input.version,
    datasetId: input.datasetId,
    datasetVersion: input.datasetVersion,
    taskType: input.taskType,
    labels: input.labels,
    items,
    leftOutCount: [...leftOut.values()].reduce((s, n) => s + n, 0),
    leftOut: LEAVE_OUT_REASONS.filter((r) => leftOut.has(r)).map((reason) => ({ reason, count: leftOut.get(reason)! })),
    pendingCount,
    agreement,
  };
  const json = canonicalJson(content);
  return { content, json, sha256: createHash('sha256').update(json).digest('hex') };
}
