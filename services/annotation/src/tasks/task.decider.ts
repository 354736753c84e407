import type { Answer, AnnotationTaskEvent, ExchangeFormat, LeaveOutReason } from '@trellis/contracts';
import { itemAgreement } from '../agreement/item-agreement';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { ProjectRules } from '../projects/project-rules';
import { validateAnswer } from './answer.validation';

export interface AssignmentState {
  assignmentId: string;
  annotatorId: string;
  status: 'assigned' | 'submitted' | 'accepted' | 'rejected' | 'released';
  answer: Answer | null;
  reviewerId: string | null;
}

export interface TaskFacts {
  taskId: string;
  projectId: string;
  itemId: string;
  subjectId: string;
  imageKey: string;
  reportAssetId: string | null;
  reportKey: string | null;
}

export type TaskStatus = 'open' | 'adjudication' | 'final' | 'cancelled';

export type TaskState =
  | { status: 'none' }
  | (TaskFacts & {
      status: TaskStatus;
      assignments: AssignmentState[];
      /** Everyone who has seen this item's answers (reviewers, adjudicators): never its annotators. */
      sawAnswers: string[];
      final: Answer | null;
      cancelReason: LeaveOutReason | null;
      /** The reviewer who sent the item to adjudication; null when its accepted answers missed the threshold. */
      escalatedBy?: string | null;
    });

export type TaskCommand =
  | ({ type: 'CreateTask' } & TaskFacts)
  | {
      type: 'AssignTask';
      assignmentId: string;
      annotatorId: string;
      rules: ProjectRules;
      projectArchived: boolean;
      /** Everyone who has had an assignment in the project: who else could take a rejected item. */
      projectAnnotators: string[];
    }
  | { type: 'ReleaseAssignment'; annotatorId: string; reason: 'released' | 'expired' }
  | { type: 'SubmitAnnotation'; annotatorId: string; answer: unknown; rules: ProjectRules }
  | { type: 'ReviewAnnotation'; assignmentId: string; reviewerId: string; verdict: 'accepted' | 'rejected'; reason: string | null; rules: ProjectRules }
  | { type: 'SendToAdjudication'; reviewerId: string; rules: ProjectRules }
  | { type: 'AdjudicateItem'; adjudicatorId: string; chosenAssignmentId: string | null; answer: unknown; rules: ProjectRules }
  | { type: 'ImportAnswer'; answer: Answer; format: ExchangeFormat; importId: string; rules: ProjectRules }
  | { type: 'ViewAnswers'; viewerId: string }
  | { type: 'CancelTask'; reason: LeaveOutReason };

export const initialTaskState: TaskState = { status: 'none' };

const fail = (code: AnnotationErrorCode, message: string, fields?: string[]): never => {
  throw new AnnotationException(code, message, fields);
};

type Existing = Exclude<TaskState, { status: 'none' }>;

function existing(state: TaskState, taskId?: string): Existing {
  if (state.status === 'none') return fail(AnnotationErrorCode.TaskNotFound, `no task ${taskId ?? ''}`.trim());
  return state;
}

function mustBeOpen(s: Existing, doing: string): void {
  if (s.status === 'cancelled') fail(AnnotationErrorCode.TaskNotOpen, `task ${s.taskId} was cancelled (${s.cancelReason}); cannot ${doing}`);
  if (s.status === 'final') fail(AnnotationErrorCode.TaskNotOpen, `task ${s.taskId} already has its final answer; cannot ${doing}`);
  if (s.status === 'adjudication') fail(AnnotationErrorCode.TaskNotOpen, `task ${s.taskId} is in adjudication; cannot ${doing}`);
}

/** Assignments that hold one of the item's required slots (a rejected or released one frees its slot). */
const holdingSlot = (a: AssignmentState) => a.status !== 'rejected' && a.status !== 'released';

/** An annotator's latest assignment of the item (an earlier one may have been rejected). */
const latestOf = (s: Existing, annotatorId: string): AssignmentState | undefined => s.assignments.filter((a) => a.annotatorId === annotatorId).at(-1);

/** Nobody may annotate an item blind any more: each has annotated it or seen its answers. */
const ineligible = (s: Existing, who: string) => s.assignments.some((a) => a.annotatorId === who) || s.sawAnswers.includes(who);

/**
 * Whether an item may go back to an annotator it was rejected from: the project allows it, every
 * annotation they made of it was rejected, and no other annotator of the project is left for it.
 * Otherwise the item waits for someone new.
 */
function mayAnnotateAgain(s: Existing, command: Extract<TaskCommand, { type: 'AssignTask' }>): boolean {
  const mine = s.assignments.filter((a) => a.annotatorId === command.annotatorId);
  return (
    command.rules.reassignRejectedToSameAnnotator &&
    mine.every((a) => a.status === 'rejected') &&
    command.projectAnnotators.every((p) => p === command.annotatorId || ineligible(s, p))
  );
}

/**
 * The task lifecycle: one task per image, `annotationsPerItem` independent annotations, each
 * reviewed; when enough are accepted the item is final if they agree, else it is adjudicated.
 * Rules: no annotator gets the same item twice, except that a rejected item may go back to its
 * annotator when the project allows it and no other annotator of the project is left for it;
 * annotators are blind (nobody who has seen the item's answers may annotate it); nobody reviews or
 * adjudicates an item they annotated; an archived project hands out no tasks.
 */
export function decideTask(state: TaskState, command: TaskCommand): AnnotationTaskEvent[] {
  switch (command.type) {
    case 'CreateTask': {
      if (state.status !== 'none') return fail(AnnotationErrorCode.AlreadyExists, `task ${command.taskId} already exists`);
      const { type: _type, ...facts } = command;
      return [{ type: 'AnnotationTaskCreated', data: facts }];
    }
    case 'AssignTask': {
      const s = existing(state);
      if (command.projectArchived) fail(AnnotationErrorCode.ProjectArchived, `project ${s.projectId} is archived and hands out no tasks`);
      mustBeOpen(s, 'assign it');
      if (s.assignments.some((a) => a.annotatorId === command.annotatorId) && !mayAnnotateAgain(s, command)) {
        fail(
          AnnotationErrorCode.AlreadyAnnotated,
          `annotator ${command.annotatorId} has already had item ${s.itemId}; an item goes to someone new while anyone is left${command.rules.reassignRejectedToSameAnnotator ? '' : ' (the project does not let a rejected item go back to its annotator)'}`,
        );
      }
      if (s.sawAnswers.includes(command.annotatorId)) {
        fail(AnnotationErrorCode.NotBlind, `${command.annotatorId} has seen the answers for item ${s.itemId} and cannot annotate it blind`);
      }
      if (s.assignments.filter(holdingSlot).length >= command.rules.annotationsPerItem) {
        fail(AnnotationErrorCode.TaskFull, `task ${s.taskId} already has its ${command.rules.annotationsPerItem} annotator(s)`);
      }
      return [
        { type: 'TaskAssigned', data: { taskId: s.taskId, projectId: s.projectId, assignmentId: command.assignmentId, annotatorId: command.annotatorId } },
      ];
    }
    case 'ReleaseAssignment': {
      const s = existing(state);
      const mine = latestOf(s, command.annotatorId);
      if (!mine) return fail(AnnotationErrorCode.NotYourTask, `task ${s.taskId} is not assigned to ${command.annotatorId}`);
      if (mine.status !== 'assigned')
        return fail(AnnotationErrorCode.TaskNotOpen, `the assignment of task ${s.taskId} is ${mine.status}; only an unfinished one can be released`);
      return [
        {
          type: 'TaskReleased',
          data: { taskId: s.taskId, projectId: s.projectId, assignmentId: mine.assignmentId, annotatorId: mine.annotatorId, reason: command.reason },
        },
      ];
    }
    case 'SubmitAnnotation': {
      const s = existing(state);
      const mine = latestOf(s, command.annotatorId);
      if (!mine) fail(AnnotationErrorCode.NotYourTask, `task ${s.taskId} is not assigned to ${command.annotatorId}`);
      mustBeOpen(s, 'submit');
      if (mine!.status === 'released')
        fail(AnnotationErrorCode.TaskNotOpen, `your assignment of task ${s.taskId} was released or expired; it cannot take a submission`);
      if (mine!.status !== 'assigned') fail(AnnotationErrorCode.AlreadySubmitted, `the annotation for task ${s.taskId} was already submitted`);
      const answer = validateAnswer(command.rules, command.answer);
      return [
        {
          type: 'AnnotationSubmitted',
          data: { taskId: s.taskId, projectId: s.projectId, assignmentId: mine!.assignmentId, annotatorId: command.annotatorId, answer },
        },
      ];
    }
    case 'ReviewAnnotation': {
      const s = existing(state);
      const target = s.assignments.find((a) => a.assignmentId === command.assignmentId);
      if (!target) return fail(AnnotationErrorCode.AssignmentNotFound, `task ${s.taskId} has no annotation ${command.assignmentId}`);
      if (s.assignments.some((a) => a.annotatorId === command.reviewerId)) {
        fail(AnnotationErrorCode.SelfReview, `${command.reviewerId} annotated item ${s.itemId} and cannot review its annotations`);
      }
      mustBeOpen(s, 'review');
      if (target.status === 'assigned') fail(AnnotationErrorCode.TaskNotOpen, `annotation ${target.assignmentId} has not been submitted yet`);
      if (target.status !== 'submitted') fail(AnnotationErrorCode.AlreadyReviewed, `annotation ${target.assignmentId} was already ${target.status}`);
      const reason = command.reason?.trim() || null;
      if (command.verdict === 'rejected' && !reason) fail(AnnotationErrorCode.InvalidRequest, 'reason: a rejection needs a reason', ['body.reason']);
      const events: AnnotationTaskEvent[] = [
        {
          type: 'AnnotationReviewed',
          data: {
            taskId: s.taskId,
            projectId: s.projectId,
            assignmentId: target.assignmentId,
            reviewerId: command.reviewerId,
            verdict: command.verdict,
            reason,
          },
        },
      ];
      if (command.verdict === 'accepted') {
        const accepted = [...s.assignments.filter((a) => a.status === 'accepted'), target];
        if (accepted.length >= command.rules.annotationsPerItem) {
          const { agreement, consensus } = itemAgreement(accepted.map((a) => a.answer!));
          const rounded = Math.round(agreement * 1e6) / 1e6;
          if (consensus && agreement >= command.rules.agreementThreshold) {
            events.push({
              type: 'ItemAccepted',
              data: {
                taskId: s.taskId,
                projectId: s.projectId,
                answer: consensus.answer,
                agreement: rounded,
                assignmentIds: accepted.map((a) => a.assignmentId),
              },
            });
          } else {
            events.push({
              type: 'ItemSentToAdjudication',
              data: { taskId: s.taskId, projectId: s.projectId, agreement: rounded, threshold: command.rules.agreementThreshold, requestedBy: null },
            });
          }
        }
      }
      return events;
    }
    case 'SendToAdjudication': {
      // A reviewer who doubts an item (answers that disagree in a way agreement does not see, a
      // hard case) hands it to adjudication before enough answers are accepted to decide it.
      const s = existing(state);
      if (s.assignments.some((a) => a.annotatorId === command.reviewerId)) {
        fail(AnnotationErrorCode.SelfReview, `${command.reviewerId} annotated item ${s.itemId} and cannot send it to adjudication`);
      }
      mustBeOpen(s, 'send it to adjudication');
      const given = s.assignments.filter((a) => a.status === 'submitted' || a.status === 'accepted');
      if (given.length === 0) fail(AnnotationErrorCode.TaskNotOpen, `item ${s.itemId} has no answer to adjudicate yet`);
      const accepted = given.filter((a) => a.status === 'accepted');
      const agreement = accepted.length >= 2 ? Math.round(itemAgreement(accepted.map((a) => a.answer!)).agreement * 1e6) / 1e6 : null;
      return [
        {
          type: 'ItemSentToAdjudication',
          data: { taskId: s.taskId, projectId: s.projectId, agreement, threshold: command.rules.agreementThreshold, requestedBy: command.reviewerId },
        },
      ];
    }
    case 'AdjudicateItem': {
      const s = existing(state);
      if (s.assignments.some((a) => a.annotatorId === command.adjudicatorId)) {
        fail(AnnotationErrorCode.SelfReview, `${command.adjudicatorId} annotated item ${s.itemId} and cannot adjudicate it`);
      }
      if (s.status !== 'adjudication') fail(AnnotationErrorCode.NotInAdjudication, `task ${s.taskId} is ${s.status}, not in adjudication`);
      if ((command.chosenAssignmentId === null) === (command.answer === undefined || command.answer === null)) {
        fail(AnnotationErrorCode.InvalidRequest, 'give either chosenAssignmentId or answer, not both or neither', ['body.chosenAssignmentId', 'body.answer']);
      }
      let answer: Answer;
      if (command.chosenAssignmentId !== null) {
        // A reviewer may send an item before its answers are reviewed: then its submitted answers are choices too.
        const choosable = (a: AssignmentState) => a.status === 'accepted' || (a.status === 'submitted' && !!s.escalatedBy);
        const chosen = s.assignments.find((a) => a.assignmentId === command.chosenAssignmentId && choosable(a));
        if (!chosen) return fail(AnnotationErrorCode.AssignmentNotFound, `task ${s.taskId} has no annotation ${command.chosenAssignmentId} to choose`);
        answer = chosen.answer!;
      } else {
        answer = validateAnswer(command.rules, command.answer);
      }
      return [
        {
          type: 'ItemAdjudicated',
          data: { taskId: s.taskId, projectId: s.projectId, adjudicatorId: command.adjudicatorId, answer, chosenAssignmentId: command.chosenAssignmentId },
        },
      ];
    }
    case 'ImportAnswer': {
      const s = existing(state);
      if (s.status === 'cancelled') fail(AnnotationErrorCode.TaskNotOpen, `task ${s.taskId} was cancelled (${s.cancelReason})`);
      if (s.status === 'final') fail(AnnotationErrorCode.TaskNotOpen, `item ${s.itemId} already has a final answer`);
      const answer = validateAnswer(command.rules, command.answer);
      return [{ type: 'ItemImported', data: { taskId: s.taskId, projectId: s.projectId, answer, format: command.format, importId: command.importId } }];
    }
    case 'ViewAnswers': {
      // Recorded before anyone is shown an open item's answers, so AssignTask can refuse them later.
      const s = existing(state);
      if (s.assignments.some((a) => a.annotatorId === command.viewerId)) {
        fail(AnnotationErrorCode.SelfReview, `${command.viewerId} annotated item ${s.itemId} and cannot see its other answers`);
      }
      if (s.status !== 'open' || s.sawAnswers.includes(command.viewerId)) return [];
      return [{ type: 'AnswersViewed', data: { taskId: s.taskId, projectId: s.projectId, viewerId: command.viewerId } }];
    }
    case 'CancelTask': {
      const s = existing(state);
      // A final item stays final (it is left out when sets are published); cancelling twice is a no-op.
      if (s.status === 'final' || s.status === 'cancelled') return [];
      return [{ type: 'TaskCancelled', data: { taskId: s.taskId, projectId: s.projectId, reason: command.reason } }];
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveTask(state: TaskState, event: AnnotationTaskEvent): TaskState {
  if (event.type === 'AnnotationTaskCreated') {
    return { ...event.data, status: 'open', assignments: [], sawAnswers: [], final: null, cancelReason: null };
  }
  if (state.status === 'none') return state;
  const update = (id: string, patch: Partial<AssignmentState>) => state.assignments.map((a) => (a.assignmentId === id ? { ...a, ...patch } : a));
  const saw = (who: string) => (state.sawAnswers.includes(who) ? state.sawAnswers : [...state.sawAnswers, who]);
  switch (event.type) {
    case 'TaskAssigned':
      return {
        ...state,
        assignments: [
          ...state.assignments,
          { assignmentId: event.data.assignmentId, annotatorId: event.data.annotatorId, status: 'assigned', answer: null, reviewerId: null },
        ],
      };
    case 'TaskReleased':
      return { ...state, assignments: update(event.data.assignmentId, { status: 'released' }) };
    case 'AnnotationSubmitted':
      return { ...state, assignments: update(event.data.assignmentId, { status: 'submitted', answer: event.data.answer }) };
    case 'AnnotationReviewed':
      return {
        ...state,
        sawAnswers: saw(event.data.reviewerId),
        assignments: update(event.data.assignmentId, { status: event.data.verdict, reviewerId: event.data.reviewerId }),
      };
    case 'ItemAccepted':
      return { ...state, status: 'final', final: event.data.answer };
    case 'ItemSentToAdjudication':
      return {
        ...state,
        status: 'adjudication',
        escalatedBy: event.data.requestedBy,
        sawAnswers: event.data.requestedBy ? saw(event.data.requestedBy) : state.sawAnswers,
      };
    case 'ItemAdjudicated':
      return { ...state, status: 'final', final: event.data.answer, sawAnswers: saw(event.data.adjudicatorId) };
    case 'ItemImported':
      return { ...state, status: 'final', final: event.data.answer };
    case 'AnswersViewed':
      return { ...state, sawAnswers: saw(event.data.viewerId) };
    case 'TaskCancelled':
      return { ...state, status: 'cancelled', cancelReason: event.data.reason };
  }
}

/**
 * What an annotator is shown: the item, its context and their own annotation, never anyone
 * else's answer (blind annotation). Undefined when the task is not theirs.
 */
export function annotatorView(state: TaskState, annotatorId: string) {
  if (state.status === 'none') return undefined;
  const mine = latestOf(state, annotatorId);
  if (!mine) return undefined;
  return {
    taskId: state.taskId,
    projectId: state.projectId,
    itemId: state.itemId,
    imageKey: state.imageKey,
    reportAssetId: state.reportAssetId,
    reportKey: state.reportKey,
    assignmentId: mine.assignmentId,
    status: mine.status,
    answer: mine.answer,
  };
}
