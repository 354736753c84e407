import type { Answer, AnnotationTaskEvent } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { ProjectRules } from '../projects/project-rules';
import { annotatorView, decideTask, evolveTask, initialTaskState, TaskCommand, TaskState } from './task.decider';

const spec = deciderSpec<TaskState, TaskCommand, AnnotationTaskEvent>({ decide: decideTask, evolve: evolveTask, initialState: initialTaskState });

const taskId = '01930000-0000-7000-8000-000000000001';
const projectId = '01930000-0000-7000-8000-0000000000aa';
const itemId = '01930000-0000-7000-8000-0000000000b1';
const subjectId = '01930000-0000-7000-8000-0000000000c1';
const asg = (n: number) => `01930000-0000-7000-8000-00000000010${n}`;

const caption: ProjectRules = {
  taskType: 'caption',
  labels: [],
  annotationsPerItem: 2,
  agreementThreshold: 0.5,
  maxTextLength: 40,
  reassignRejectedToSameAnnotator: false,
};
const labels: ProjectRules = {
  taskType: 'classification',
  labels: ['normal', 'abnormal'],
  annotationsPerItem: 2,
  agreementThreshold: 1,
  maxTextLength: 40,
  reassignRejectedToSameAnnotator: false,
};
const vqa: ProjectRules = { ...caption, taskType: 'vqa', annotationsPerItem: 1 };

/** Builder for the events of one task, the one style used in these specs. */
class TaskEvents {
  static created(): AnnotationTaskEvent {
    return { type: 'AnnotationTaskCreated', data: { taskId, projectId, itemId, subjectId, imageKey: 'curated/img.png', reportAssetId: null, reportKey: null } };
  }
  static assigned(n: number, annotatorId: string): AnnotationTaskEvent {
    return { type: 'TaskAssigned', data: { taskId, projectId, assignmentId: asg(n), annotatorId } };
  }
  static submitted(n: number, annotatorId: string, answer: Answer): AnnotationTaskEvent {
    return { type: 'AnnotationSubmitted', data: { taskId, projectId, assignmentId: asg(n), annotatorId, answer } };
  }
  static reviewed(n: number, reviewerId: string, verdict: 'accepted' | 'rejected', reason: string | null = null): AnnotationTaskEvent {
    return { type: 'AnnotationReviewed', data: { taskId, projectId, assignmentId: asg(n), reviewerId, verdict, reason } };
  }
}
const E = TaskEvents;

/** An AssignTask command; the project is active and its annotators are whoever the case says. */
const assign = (n: number, annotatorId: string, rules: ProjectRules, project: { archived?: boolean; annotators?: string[] } = {}): TaskCommand => ({
  type: 'AssignTask',
  assignmentId: asg(n),
  annotatorId,
  rules,
  projectArchived: project.archived ?? false,
  projectAnnotators: project.annotators ?? [],
});
const cap = (caption: string) => ({ kind: 'caption' as const, caption });
const lab = (label: string) => ({ kind: 'classification' as const, label });

const code = (expected: AnnotationErrorCode, message?: RegExp) => (err: unknown) => {
  expect(err).toBeInstanceOf(AnnotationException);
  expect((err as AnnotationException).code).toBe(expected);
  if (message) expect((err as Error).message).toMatch(message);
};

describe('decideTask', () => {
  describe('ViewAnswers', () => {
    const submitted = [E.created(), E.assigned(1, 'ann-1'), E.submitted(1, 'ann-1', cap('a dog'))];
    it('records, once, that someone was shown the answers of an open item', () => {
      const viewed: AnnotationTaskEvent = { type: 'AnswersViewed', data: { taskId, projectId, viewerId: 'rev-1' } };
      spec.given(submitted).when({ type: 'ViewAnswers', viewerId: 'rev-1' }).then([viewed]);
      spec
        .given([...submitted, viewed])
        .when({ type: 'ViewAnswers', viewerId: 'rev-1' })
        .then([]);
    });

    it("refuses to show an item's answers to one of its annotators", () => {
      spec.given(submitted).when({ type: 'ViewAnswers', viewerId: 'ann-1' }).thenThrows(code(AnnotationErrorCode.SelfReview));
    });
  });

  describe('AssignTask', () => {
    it('assigns an open task to an annotator', () => {
      spec
        .given([E.created()])
        .when(assign(1, 'ann-1', caption))
        .then([E.assigned(1, 'ann-1')]);
    });

    it('never gives the same item to an annotator twice, not even after their annotation was rejected', () => {
      spec
        .given([E.created(), E.assigned(1, 'ann-1'), E.submitted(1, 'ann-1', cap('a dog')), E.reviewed(1, 'rev-1', 'rejected', 'too short')])
        .when(assign(2, 'ann-1', caption))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated, /ann-1 has already had item/));
    });

    it('keeps annotation blind: someone who reviewed the item (and saw its answers) cannot annotate it', () => {
      spec
        .given([E.created(), E.assigned(1, 'ann-1'), E.submitted(1, 'ann-1', cap('a dog')), E.reviewed(1, 'rev-1', 'rejected', 'wrong')])
        .when(assign(2, 'rev-1', caption))
        .thenThrows(code(AnnotationErrorCode.NotBlind));
    });

    it('keeps annotation blind: someone shown the answers in the review queue cannot annotate the item', () => {
      spec
        .given([
          E.created(),
          E.assigned(1, 'ann-1'),
          E.submitted(1, 'ann-1', cap('a dog')),
          { type: 'AnswersViewed', data: { taskId, projectId, viewerId: 'both-1' } },
        ])
        .when(assign(2, 'both-1', caption))
        .thenThrows(code(AnnotationErrorCode.NotBlind));
    });

    it('hands out no more slots than annotations per item, and reopens the slot of a rejected annotation', () => {
      const two = [E.created(), E.assigned(1, 'ann-1'), E.assigned(2, 'ann-2')];
      spec
        .given(two)
        .when(assign(3, 'ann-3', caption))
        .thenThrows(code(AnnotationErrorCode.TaskFull));
      spec
        .given([...two, E.submitted(1, 'ann-1', cap('a dog')), E.reviewed(1, 'rev-1', 'rejected', 'wrong')])
        .when(assign(3, 'ann-3', caption))
        .then([E.assigned(3, 'ann-3')]);
    });

    it('refuses a task that does not exist or was cancelled', () => {
      spec
        .given([])
        .when(assign(1, 'ann-1', caption))
        .thenThrows(code(AnnotationErrorCode.TaskNotFound));
      spec
        .given([E.created(), { type: 'TaskCancelled', data: { taskId, projectId, reason: 'consent-withdrawn:human-annotation' } }])
        .when(assign(1, 'ann-1', caption))
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /cancelled \(consent-withdrawn:human-annotation\)/));
    });
  });

  describe('AssignTask after a rejection', () => {
    const again: ProjectRules = { ...caption, reassignRejectedToSameAnnotator: true };
    // ann-1's caption was rejected; ann-2 holds the other slot.
    const rejected = [
      E.created(),
      E.assigned(1, 'ann-1'),
      E.assigned(2, 'ann-2'),
      E.submitted(1, 'ann-1', cap('a dog')),
      E.reviewed(1, 'rev-1', 'rejected', 'too short'),
    ];

    it('gives the item to another eligible annotator first', () => {
      spec
        .given(rejected)
        .when(assign(3, 'ann-3', again, { annotators: ['ann-1', 'ann-2', 'ann-3'] }))
        .then([E.assigned(3, 'ann-3')]);
    });

    it('gives it back to the annotator it was rejected from when the project allows it and nobody else of the project is left', () => {
      spec
        .given(rejected)
        .when(assign(3, 'ann-1', again, { annotators: ['ann-1', 'ann-2'] }))
        .then([E.assigned(3, 'ann-1')]);
    });

    it('keeps it from them while another annotator of the project could still take it', () => {
      spec
        .given(rejected)
        .when(assign(3, 'ann-1', again, { annotators: ['ann-1', 'ann-2', 'ann-3'] }))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated, /goes to someone new while anyone is left/));
    });

    it('counts someone who has seen the answers as not left (they cannot annotate blind)', () => {
      const viewed: AnnotationTaskEvent = { type: 'AnswersViewed', data: { taskId, projectId, viewerId: 'ann-3' } };
      spec
        .given([...rejected, viewed])
        .when(assign(3, 'ann-1', again, { annotators: ['ann-1', 'ann-2', 'ann-3'] }))
        .then([E.assigned(3, 'ann-1')]);
    });

    it('keeps it from them by default (the project setting is off), saying so', () => {
      spec
        .given(rejected)
        .when(assign(3, 'ann-1', caption, { annotators: ['ann-1', 'ann-2'] }))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated, /does not let a rejected item go back to its annotator/));
    });

    it('never gives an item back to someone whose annotation was accepted, or who released it', () => {
      const accepted = [E.created(), E.assigned(1, 'ann-1'), E.submitted(1, 'ann-1', cap('a dog')), E.reviewed(1, 'rev-1', 'accepted')];
      spec
        .given(accepted)
        .when(assign(2, 'ann-1', again, { annotators: ['ann-1'] }))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated));
      const released: AnnotationTaskEvent = {
        type: 'TaskReleased',
        data: { taskId, projectId, assignmentId: asg(1), annotatorId: 'ann-1', reason: 'released' },
      };
      spec
        .given([E.created(), E.assigned(1, 'ann-1'), released])
        .when(assign(2, 'ann-1', again, { annotators: ['ann-1'] }))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated));
    });

    it('lets the returning annotator submit on their new assignment and shows them that one', () => {
      const back = [...rejected, E.assigned(3, 'ann-1')];
      spec
        .given(back)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: 'a brown dog' }, rules: again })
        .then([E.submitted(3, 'ann-1', cap('a brown dog'))]);
      const state = back.reduce<TaskState>(evolveTask, initialTaskState);
      expect(annotatorView(state, 'ann-1')).toMatchObject({ assignmentId: asg(3), status: 'assigned', answer: null });
    });
  });

  describe('AssignTask on an archived project', () => {
    it('hands out no task', () => {
      spec
        .given([E.created()])
        .when(assign(1, 'ann-1', caption, { archived: true }))
        .thenThrows(code(AnnotationErrorCode.ProjectArchived, /archived/));
    });
  });

  describe('ReleaseAssignment', () => {
    const released: AnnotationTaskEvent = { type: 'TaskReleased', data: { taskId, projectId, assignmentId: asg(1), annotatorId: 'ann-1', reason: 'released' } };

    it('gives an unfinished assignment back, reopening its slot for someone else but not for its annotator', () => {
      const full = [E.created(), E.assigned(1, 'ann-1'), E.assigned(2, 'ann-2')];
      spec.given(full).when({ type: 'ReleaseAssignment', annotatorId: 'ann-1', reason: 'released' }).then([released]);
      spec
        .given([...full, released])
        .when(assign(3, 'ann-3', caption))
        .then([E.assigned(3, 'ann-3')]);
      spec
        .given([...full, released])
        .when(assign(3, 'ann-1', caption))
        .thenThrows(code(AnnotationErrorCode.AlreadyAnnotated));
      spec
        .given([...full, released])
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: 'late' }, rules: caption })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /released or expired/));
    });

    it('refuses to release a submitted annotation or a task that is not yours', () => {
      spec
        .given([E.created(), E.assigned(1, 'ann-1'), E.submitted(1, 'ann-1', cap('a dog'))])
        .when({ type: 'ReleaseAssignment', annotatorId: 'ann-1', reason: 'expired' })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /is submitted/));
      spec
        .given([E.created(), E.assigned(1, 'ann-1')])
        .when({ type: 'ReleaseAssignment', annotatorId: 'ann-2', reason: 'released' })
        .thenThrows(code(AnnotationErrorCode.NotYourTask));
    });
  });

  describe('SubmitAnnotation', () => {
    const assigned = [E.created(), E.assigned(1, 'ann-1')];

    it('records a valid caption, trimmed, with its annotator', () => {
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: '  a dog on grass ' }, rules: caption })
        .then([E.submitted(1, 'ann-1', cap('a dog on grass'))]);
    });

    it('refuses an empty caption and one over the length limit, naming the field', () => {
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: '   ' }, rules: caption })
        .thenThrows((err) => {
          code(AnnotationErrorCode.InvalidAnswer, /answer.caption: must not be empty/)(err);
          expect((err as AnnotationException).fields).toEqual(['answer.caption']);
        });
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: 'x'.repeat(41) }, rules: caption })
        .thenThrows(code(AnnotationErrorCode.InvalidAnswer, /at most 40 characters, got 41/));
    });

    it('refuses a label outside the label set and a question without an answer', () => {
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { label: 'unsure' }, rules: labels })
        .thenThrows(code(AnnotationErrorCode.InvalidAnswer, /^answer.label: is not in the label set \(normal, abnormal\)$/));
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { pairs: [{ question: 'what organ?' }] }, rules: vqa })
        .thenThrows(code(AnnotationErrorCode.InvalidAnswer, /answer.pairs.0.answer: must be a string/));
    });

    describe('issue 11 item 4: free text entering events', () => {
      const personal = ['Patient: Jane Roe', 'Dr. Roe', 'born 1950-02-28', 'MRN 8812345', 'call 555-123-4567', 'jane.roe@example.org'];

      it.each(personal)('refuses a caption with an identifier the Safe Harbor redactor finds (%s), naming the category and not the text', (bad) => {
        spec
          .given(assigned)
          .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: `opacity; ${bad}` }, rules: caption })
          .thenThrows((err) => {
            code(AnnotationErrorCode.InvalidAnswer, /^answer.caption: looks like personal data \((name|date|mrn|phone|email)\)/)(err);
            expect((err as AnnotationException).message).not.toContain(bad);
            expect((err as AnnotationException).fields).toEqual(['answer.caption']);
          });
      });

      it('refuses a question or answer of a VQA pair with an identifier, naming the pair', () => {
        spec
          .given(assigned)
          .when({
            type: 'SubmitAnnotation',
            annotatorId: 'ann-1',
            answer: { pairs: [{ question: 'which side?', answer: 'left, seen 03/14/2021' }] },
            rules: vqa,
          })
          .thenThrows(code(AnnotationErrorCode.InvalidAnswer, /^answer.pairs.0.answer: looks like personal data \(date\)/));
      });

      it('keeps clinical text that only looks like numbers: measurements, levels, ages under 90, years', () => {
        const clinical = '3 cm nodule, L4-L5, 65 yo, 120/80, 2021';
        spec
          .given(assigned)
          .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: clinical }, rules: caption })
          .then([E.submitted(1, 'ann-1', cap(clinical))]);
      });

      it('never repeats an unknown key or kind the client sent', () => {
        spec
          .given(assigned)
          .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { 'Jane Roe': 1 }, rules: caption })
          .thenThrows((err) => expect((err as Error).message).not.toContain('Jane'));
        spec
          .given(assigned)
          .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { kind: 'Jane Roe', caption: 'x' }, rules: caption })
          .thenThrows((err) => expect((err as Error).message).not.toContain('Jane'));
      });
    });

    it('refuses a task that is not yours, and a second submission', () => {
      spec
        .given(assigned)
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-2', answer: { caption: 'a dog' }, rules: caption })
        .thenThrows(code(AnnotationErrorCode.NotYourTask));
      spec
        .given([...assigned, E.submitted(1, 'ann-1', cap('a dog'))])
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: 'a cat' }, rules: caption })
        .thenThrows(code(AnnotationErrorCode.AlreadySubmitted));
    });
  });

  describe('ReviewAnnotation', () => {
    const submittedBoth = [
      E.created(),
      E.assigned(1, 'ann-1'),
      E.assigned(2, 'ann-2'),
      E.submitted(1, 'ann-1', cap('a small dog on grass')),
      E.submitted(2, 'ann-2', cap('a dog on the grass')),
    ];

    it('refuses a reviewer who annotated the item: nobody reviews their own work', () => {
      spec
        .given(submittedBoth)
        .when({ type: 'ReviewAnnotation', assignmentId: asg(1), reviewerId: 'ann-1', verdict: 'accepted', reason: null, rules: caption })
        .thenThrows(code(AnnotationErrorCode.SelfReview));
      spec
        .given(submittedBoth)
        .when({ type: 'ReviewAnnotation', assignmentId: asg(1), reviewerId: 'ann-2', verdict: 'accepted', reason: null, rules: caption })
        .thenThrows(code(AnnotationErrorCode.SelfReview));
    });

    it('requires a reason to reject', () => {
      spec
        .given(submittedBoth)
        .when({ type: 'ReviewAnnotation', assignmentId: asg(1), reviewerId: 'rev-1', verdict: 'rejected', reason: ' ', rules: caption })
        .thenThrows(code(AnnotationErrorCode.InvalidRequest, /needs a reason/));
    });

    it('accepts the item with the medoid answer when the last required acceptance agrees above the threshold', () => {
      // token F1 of "small dog on grass" vs "dog on grass" = 2*(1*0.75)/(1.75) = 0.857 >= 0.5
      spec
        .given([...submittedBoth, E.reviewed(1, 'rev-1', 'accepted')])
        .when({ type: 'ReviewAnnotation', assignmentId: asg(2), reviewerId: 'rev-1', verdict: 'accepted', reason: null, rules: caption })
        .then([
          E.reviewed(2, 'rev-1', 'accepted'),
          { type: 'ItemAccepted', data: { taskId, projectId, answer: cap('a small dog on grass'), agreement: 0.857143, assignmentIds: [asg(1), asg(2)] } },
        ]);
    });

    it('sends the item to adjudication when the accepted answers miss the threshold', () => {
      const split = [
        E.created(),
        E.assigned(1, 'ann-1'),
        E.assigned(2, 'ann-2'),
        E.submitted(1, 'ann-1', lab('normal')),
        E.submitted(2, 'ann-2', lab('abnormal')),
        E.reviewed(1, 'rev-1', 'accepted'),
      ];
      spec
        .given(split)
        .when({ type: 'ReviewAnnotation', assignmentId: asg(2), reviewerId: 'rev-2', verdict: 'accepted', reason: null, rules: labels })
        .then([
          E.reviewed(2, 'rev-2', 'accepted'),
          { type: 'ItemSentToAdjudication', data: { taskId, projectId, agreement: 0, threshold: 1, requestedBy: null } },
        ]);
    });

    it('refuses to review an annotation twice or one not yet submitted', () => {
      spec
        .given([...submittedBoth, E.reviewed(1, 'rev-1', 'rejected', 'off topic')])
        .when({ type: 'ReviewAnnotation', assignmentId: asg(1), reviewerId: 'rev-2', verdict: 'accepted', reason: null, rules: caption })
        .thenThrows(code(AnnotationErrorCode.AlreadyReviewed));
      spec
        .given([E.created(), E.assigned(1, 'ann-1')])
        .when({ type: 'ReviewAnnotation', assignmentId: asg(1), reviewerId: 'rev-1', verdict: 'accepted', reason: null, rules: caption })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /not been submitted/));
    });
  });

  describe('SendToAdjudication', () => {
    const oneSubmitted = [E.created(), E.assigned(1, 'ann-1'), E.assigned(2, 'ann-2'), E.submitted(1, 'ann-1', lab('normal'))];
    const sent = (agreement: number | null, by = 'rev-1'): AnnotationTaskEvent => ({
      type: 'ItemSentToAdjudication',
      data: { taskId, projectId, agreement, threshold: labels.agreementThreshold, requestedBy: by },
    });

    it('lets a reviewer send an item with an answer to adjudication before its answers are reviewed', () => {
      spec
        .given(oneSubmitted)
        .when({ type: 'SendToAdjudication', reviewerId: 'rev-1', rules: labels })
        .then([sent(null)]);
    });

    it('records the agreement when enough answers are accepted to measure it', () => {
      spec
        .given([
          ...oneSubmitted,
          E.submitted(2, 'ann-2', lab('normal')),
          E.reviewed(1, 'rev-1', 'accepted'),
          { type: 'AnnotationReviewed', data: { taskId, projectId, assignmentId: asg(2), reviewerId: 'rev-2', verdict: 'accepted', reason: null } },
        ])
        .when({ type: 'SendToAdjudication', reviewerId: 'rev-3', rules: { ...labels, annotationsPerItem: 3 } })
        .then([sent(1, 'rev-3')]);
    });

    it('then lets an adjudicator choose a submitted answer, which an automatic adjudication does not offer', () => {
      spec
        .given([...oneSubmitted, sent(null)])
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: asg(1), answer: undefined, rules: labels })
        .then([{ type: 'ItemAdjudicated', data: { taskId, projectId, adjudicatorId: 'rev-2', answer: lab('normal'), chosenAssignmentId: asg(1) } }]);
      spec
        .given([...oneSubmitted, { ...sent(0), data: { ...sent(0).data, requestedBy: null } } as AnnotationTaskEvent])
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: asg(1), answer: undefined, rules: labels })
        .thenThrows(code(AnnotationErrorCode.AssignmentNotFound));
    });

    it('refuses an annotator of the item, an item without an answer, and an item already decided or sent', () => {
      spec.given(oneSubmitted).when({ type: 'SendToAdjudication', reviewerId: 'ann-2', rules: labels }).thenThrows(code(AnnotationErrorCode.SelfReview));
      spec
        .given([E.created(), E.assigned(1, 'ann-1')])
        .when({ type: 'SendToAdjudication', reviewerId: 'rev-1', rules: labels })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /no answer to adjudicate/));
      spec
        .given([...oneSubmitted, sent(null)])
        .when({ type: 'SendToAdjudication', reviewerId: 'rev-2', rules: labels })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /in adjudication/));
    });
  });

  describe('AdjudicateItem', () => {
    const inAdjudication = [
      E.created(),
      E.assigned(1, 'ann-1'),
      E.assigned(2, 'ann-2'),
      E.submitted(1, 'ann-1', lab('normal')),
      E.submitted(2, 'ann-2', lab('abnormal')),
      E.reviewed(1, 'rev-1', 'accepted'),
      E.reviewed(2, 'rev-1', 'accepted'),
      { type: 'ItemSentToAdjudication', data: { taskId, projectId, agreement: 0, threshold: 1, requestedBy: null } } as AnnotationTaskEvent,
    ];

    it('lets a reviewer choose one of the accepted answers', () => {
      spec
        .given(inAdjudication)
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: asg(2), answer: undefined, rules: labels })
        .then([{ type: 'ItemAdjudicated', data: { taskId, projectId, adjudicatorId: 'rev-2', answer: lab('abnormal'), chosenAssignmentId: asg(2) } }]);
    });

    it('lets a reviewer write the final answer, validated like any answer', () => {
      spec
        .given(inAdjudication)
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: null, answer: { label: 'normal' }, rules: labels })
        .then([{ type: 'ItemAdjudicated', data: { taskId, projectId, adjudicatorId: 'rev-2', answer: lab('normal'), chosenAssignmentId: null } }]);
      spec
        .given(inAdjudication)
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: null, answer: { label: 'maybe' }, rules: labels })
        .thenThrows(code(AnnotationErrorCode.InvalidAnswer));
    });

    it('refuses an annotator of the item and an item not in adjudication', () => {
      spec
        .given(inAdjudication)
        .when({ type: 'AdjudicateItem', adjudicatorId: 'ann-1', chosenAssignmentId: asg(1), answer: undefined, rules: labels })
        .thenThrows(code(AnnotationErrorCode.SelfReview));
      spec
        .given(inAdjudication.slice(0, -1))
        .when({ type: 'AdjudicateItem', adjudicatorId: 'rev-2', chosenAssignmentId: asg(1), answer: undefined, rules: labels })
        .thenThrows(code(AnnotationErrorCode.NotInAdjudication));
    });
  });

  describe('CancelTask', () => {
    it('cancels an open task with its reason, and is a no-op the second time or on a final item', () => {
      const cancelled: AnnotationTaskEvent = { type: 'TaskCancelled', data: { taskId, projectId, reason: 'subject-erased' } };
      spec
        .given([E.created(), E.assigned(1, 'ann-1')])
        .when({ type: 'CancelTask', reason: 'subject-erased' })
        .then([cancelled]);
      spec.given([E.created(), cancelled]).when({ type: 'CancelTask', reason: 'subject-erased' }).then([]);
      spec
        .given([E.created(), { type: 'ItemImported', data: { taskId, projectId, answer: cap('x'), format: 'jsonl', importId: asg(9) } }])
        .when({ type: 'CancelTask', reason: 'subject-erased' })
        .then([]);
    });

    it('stops a cancelled task from taking submissions', () => {
      spec
        .given([E.created(), E.assigned(1, 'ann-1'), { type: 'TaskCancelled', data: { taskId, projectId, reason: 'consent-withdrawn:model-training' } }])
        .when({ type: 'SubmitAnnotation', annotatorId: 'ann-1', answer: { caption: 'a dog' }, rules: caption })
        .thenThrows(code(AnnotationErrorCode.TaskNotOpen, /cancelled/));
    });
  });
});

describe('annotatorView', () => {
  it("shows an annotator their own annotation and never another annotator's answer (blind)", () => {
    const state = [E.created(), E.assigned(1, 'ann-1'), E.assigned(2, 'ann-2'), E.submitted(1, 'ann-1', cap('a secret caption'))].reduce(
      evolveTask,
      initialTaskState,
    );
    const view = annotatorView(state, 'ann-2');
    expect(view).toMatchObject({ taskId, assignmentId: asg(2), status: 'assigned', answer: null });
    expect(JSON.stringify(view)).not.toContain('secret');
    expect(annotatorView(state, 'ann-3')).toBeUndefined();
  });
});
