import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { type Actor, type Answer, safeText } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { principalRefs } from '@trellis/auth';
import { EventStoreErrorCode, EventStoreException } from '@trellis/event-store';
import { AnnotationErrorCode, AnnotationException, describeIssues } from '../annotation.exception';
import { requireProject } from '../projects/project.queries';
import type { ProjectRules } from '../projects/project-rules';
import { annotatorView, TaskCommand } from './task.decider';
import { AnnotationStreams, requireUuid, retryOnConflict, taskDecider, taskStream } from './task.streams';

export const SubmitRequest = z.object({ answer: z.unknown() }).strict();
export const ReviewRequest = z
  .object({
    assignmentId: z.string().uuid(),
    verdict: z.enum(['accepted', 'rejected']),
    reason: safeText({ max: 2000, min: 0, multiline: true, refusePersonalData: true }).optional(),
  })
  .strict();
export const ExpireRequest = z.object({ olderThanMinutes: z.number().int().min(0).max(525_600) }).strict();
export const SendToAdjudicationRequest = z.object({}).strict();
export const AdjudicateRequest = z.object({ chosenAssignmentId: z.string().uuid().optional(), answer: z.unknown().optional() }).strict();

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const { detail, fields } = describeIssues(parsed.error.issues);
    throw new AnnotationException(AnnotationErrorCode.InvalidRequest, `invalid request: ${detail}`, fields);
  }
  return parsed.data;
}

/** What an annotator works on: the item and its context, the guidelines, never others' answers. */
export interface AssignmentView {
  taskId: string;
  projectId: string;
  itemId: string;
  imageKey: string;
  reportAssetId: string | null;
  reportKey: string | null;
  assignmentId: string;
  status: string;
  answer: Answer | null;
  taskType: string;
  labels: string[];
  guidelines: string;
  maxTextLength: number;
}

@Injectable()
export class TaskUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: AnnotationStreams,
  ) {}

  /**
   * The next item for an annotator: their unfinished assignment in the project if they have one,
   * else the oldest open task they have neither annotated nor seen answers of, with a free slot.
   * The read model proposes candidates; the task decider has the last word, and a lost race for a
   * slot just moves on to the next candidate.
   */
  async pullNext(projectIdParam: string, actor: Actor): Promise<AssignmentView | null> {
    const project = await requireProject(this.dataSource, requireUuid(projectIdParam, 'project id', 'params.projectId'));
    // Said at once rather than as "nothing left"; the task decider refuses it too if the archive races the pull.
    if (project.status === 'archived')
      throw new AnnotationException(AnnotationErrorCode.ProjectArchived, `project ${project.projectId} is archived and hands out no tasks`);
    const current: { task_id: string }[] = await this.dataSource.query(
      `SELECT a.task_id FROM annotation_assignments a JOIN annotation_tasks t USING (task_id)
        WHERE a.project_id = $1 AND a.annotator_id = $2 AND a.status = 'assigned' AND t.status = 'open' ORDER BY a.assigned_at LIMIT 1`,
      [project.projectId, actor.id],
    );
    if (current.length) return this.view(current[0].task_id, actor.id);
    for (let round = 0; round < 5; round++) {
      const candidates: { task_id: string }[] = await this.dataSource.query(
        `SELECT t.task_id FROM annotation_tasks t
          WHERE t.project_id = $1 AND t.status = 'open'
            AND NOT EXISTS (SELECT 1 FROM annotation_assignments a WHERE a.task_id = t.task_id AND (a.annotator_id = $2 OR a.reviewer_id = $2))
            AND NOT EXISTS (SELECT 1 FROM annotation_answer_views v WHERE v.task_id = t.task_id AND v.viewer_id = $2)
            AND (SELECT count(*) FROM annotation_assignments a WHERE a.task_id = t.task_id AND a.status NOT IN ('rejected', 'released')) < $3
          ORDER BY t.seq LIMIT 20`,
        [project.projectId, actor.id, project.rules.annotationsPerItem],
      );
      if (candidates.length === 0) break;
      for (const { task_id } of candidates) {
        const assigned = await this.tryAssign(task_id, actor, project.rules);
        if (assigned) return this.view(task_id, actor.id);
      }
    }
    if (!project.rules.reassignRejectedToSameAnnotator) return null;
    // Items rejected from this annotator that nobody else of the project can take (see the task decider).
    const again: { task_id: string }[] = await this.dataSource.query(
      `SELECT t.task_id FROM annotation_tasks t
        WHERE t.project_id = $1 AND t.status = 'open'
          AND EXISTS (SELECT 1 FROM annotation_assignments a WHERE a.task_id = t.task_id AND a.annotator_id = $2)
          AND NOT EXISTS (SELECT 1 FROM annotation_assignments a WHERE a.task_id = t.task_id AND a.annotator_id = $2 AND a.status <> 'rejected')
          AND NOT EXISTS (SELECT 1 FROM annotation_answer_views v WHERE v.task_id = t.task_id AND v.viewer_id = $2)
          AND (SELECT count(*) FROM annotation_assignments a WHERE a.task_id = t.task_id AND a.status NOT IN ('rejected', 'released')) < $3
          AND NOT EXISTS (
            SELECT 1 FROM (SELECT DISTINCT annotator_id FROM annotation_assignments WHERE project_id = $1) other
             WHERE other.annotator_id <> $2
               AND NOT EXISTS (SELECT 1 FROM annotation_assignments o WHERE o.task_id = t.task_id AND o.annotator_id = other.annotator_id)
               AND NOT EXISTS (SELECT 1 FROM annotation_answer_views v WHERE v.task_id = t.task_id AND v.viewer_id = other.annotator_id))
        ORDER BY t.seq LIMIT 20`,
      [project.projectId, actor.id, project.rules.annotationsPerItem],
    );
    for (const { task_id } of again) {
      if (await this.tryAssign(task_id, actor, project.rules)) return this.view(task_id, actor.id);
    }
    return null;
  }

  private async tryAssign(taskId: string, actor: Actor, rules: ProjectRules): Promise<boolean> {
    try {
      await withTransaction(this.dataSource, (tx) =>
        this.streams.handle(
          tx,
          taskStream(taskId),
          taskDecider,
          async (state): Promise<TaskCommand> => {
            const project = state.status === 'none' ? undefined : await requireProject(tx, state.projectId);
            const annotators: { annotator_id: string }[] = project
              ? await tx.query('SELECT DISTINCT annotator_id FROM annotation_assignments WHERE project_id = $1', [project.projectId])
              : [];
            return {
              type: 'AssignTask',
              assignmentId: uuidv7(),
              annotatorId: actor.id,
              rules,
              projectArchived: project?.status === 'archived',
              projectAnnotators: annotators.map((a) => a.annotator_id),
            };
          },
          actor,
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof EventStoreException && err.code === EventStoreErrorCode.WrongExpectedVersion) return false;
      if (err instanceof AnnotationException && err.code !== AnnotationErrorCode.ProjectArchived) return false;
      throw err;
    }
  }

  async view(taskId: string, annotatorId: string): Promise<AssignmentView> {
    const { state } = await this.streams.loadTask(taskId);
    const mine = annotatorView(state, annotatorId);
    if (!mine) throw new AnnotationException(AnnotationErrorCode.NotYourTask, `task ${taskId} is not assigned to you`);
    const project = await requireProject(this.dataSource, mine.projectId);
    return {
      ...mine,
      taskType: project.rules.taskType,
      labels: project.rules.labels,
      guidelines: project.guidelines,
      maxTextLength: project.rules.maxTextLength,
    };
  }

  /** The caller's own view of a task (404 if it does not exist, 403 if it is not theirs). */
  async get(taskIdParam: string, actor: Actor): Promise<AssignmentView> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const { state } = await this.streams.loadTask(taskId);
    if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.TaskNotFound, `no task ${taskId}`);
    return this.view(taskId, actor.id);
  }

  async submit(taskIdParam: string, body: unknown, actor: Actor): Promise<AssignmentView> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const { answer } = parse(SubmitRequest, body);
    await this.decideAndAppend(taskId, actor, (rules) => ({ type: 'SubmitAnnotation', annotatorId: actor.id, answer, rules }));
    return this.view(taskId, actor.id);
  }

  /** The annotator gives an unfinished task back; its slot goes to someone else, never to them again. */
  async release(taskIdParam: string, actor: Actor): Promise<{ taskId: string; status: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const status = await this.decideAndAppend(taskId, actor, () => ({ type: 'ReleaseAssignment', annotatorId: actor.id, reason: 'released' }));
    return { taskId, status };
  }

  /**
   * A steward expires the project's assignments left unfinished for longer than `olderThanMinutes`
   * (an annotator who pulled a task and went away would otherwise hold its slot for ever).
   */
  async expireStale(projectIdParam: string, body: unknown, actor: Actor): Promise<{ expired: number }> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    const { olderThanMinutes } = parse(ExpireRequest, body);
    await requireProject(this.dataSource, projectId);
    const stale: { task_id: string; annotator_id: string }[] = await this.dataSource.query(
      `SELECT a.task_id, a.annotator_id FROM annotation_assignments a JOIN annotation_tasks t USING (task_id)
        WHERE a.project_id = $1 AND a.status = 'assigned' AND t.status = 'open' AND a.assigned_at < now() - make_interval(mins => $2)`,
      [projectId, olderThanMinutes],
    );
    let expired = 0;
    for (const s of stale) {
      try {
        await this.decideAndAppend(s.task_id, actor, () => ({ type: 'ReleaseAssignment', annotatorId: s.annotator_id, reason: 'expired' }));
        expired += 1;
      } catch (err) {
        // Submitted or cancelled in the meantime: nothing to expire any more.
        if (!(err instanceof AnnotationException)) throw err;
      }
    }
    return { expired };
  }

  async review(taskIdParam: string, body: unknown, actor: Actor): Promise<{ taskId: string; status: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const req = parse(ReviewRequest, body);
    const state = await this.decideAndAppend(taskId, actor, (rules) => ({
      type: 'ReviewAnnotation',
      assignmentId: req.assignmentId.toLowerCase(),
      reviewerId: actor.id,
      verdict: req.verdict,
      reason: req.reason ?? null,
      rules,
    }));
    return { taskId, status: state };
  }

  /** A reviewer hands an item with at least one answer to adjudication (not one they annotated). */
  async sendToAdjudication(taskIdParam: string, body: unknown, actor: Actor): Promise<{ taskId: string; status: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    parse(SendToAdjudicationRequest, body ?? {});
    const state = await this.decideAndAppend(taskId, actor, (rules) => ({ type: 'SendToAdjudication', reviewerId: actor.id, rules }));
    return { taskId, status: state };
  }

  async adjudicate(taskIdParam: string, body: unknown, actor: Actor): Promise<{ taskId: string; status: string }> {
    const taskId = requireUuid(taskIdParam, 'task id', 'params.taskId');
    const req = parse(AdjudicateRequest, body);
    const state = await this.decideAndAppend(taskId, actor, (rules) => ({
      type: 'AdjudicateItem',
      adjudicatorId: actor.id,
      chosenAssignmentId: req.chosenAssignmentId?.toLowerCase() ?? null,
      answer: req.answer,
      rules,
    }));
    return { taskId, status: state };
  }

  /** Load, decide, append with the expected version; again from the top if someone else wrote in between. */
  private decideAndAppend(taskId: string, actor: Actor, command: (rules: ProjectRules) => TaskCommand): Promise<string> {
    return retryOnConflict(() =>
      withTransaction(this.dataSource, async (tx) => {
        const { newState } = await this.streams.handle(
          tx,
          taskStream(taskId),
          taskDecider,
          async (state) => {
            if (state.status === 'none') throw new AnnotationException(AnnotationErrorCode.TaskNotFound, `no task ${taskId}`);
            return command((await requireProject(tx, state.projectId)).rules);
          },
          actor,
        );
        return newState.status;
      }),
    );
  }

  /** Submitted annotations waiting for review, on items the reviewer did not annotate; the reviewer can never annotate them afterwards. */
  async reviewQueue(projectIdParam: string, actor: Actor, limit = 50) {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    await requireProject(this.dataSource, projectId);
    const rows: {
      task_id: string;
      assignment_id: string;
      item_id: string;
      image_key: string;
      report_key: string | null;
      answer: Answer;
      annotator_id: string;
    }[] = await this.dataSource.query(
      `SELECT a.task_id, a.assignment_id, t.item_id, t.image_key, t.report_key, a.answer, a.annotator_id
         FROM annotation_assignments a JOIN annotation_tasks t USING (task_id)
        WHERE a.project_id = $1 AND a.status = 'submitted' AND t.status = 'open'
          AND NOT EXISTS (SELECT 1 FROM annotation_assignments mine WHERE mine.task_id = a.task_id AND mine.annotator_id = $2)
        ORDER BY a.submitted_at LIMIT $3`,
      [projectId, actor.id, limit],
    );
    // Blind annotation: before showing anyone an item's answers, record that they saw them
    // (AnswersViewed), so the task decider never assigns them that item afterwards. An item the
    // caller was assigned in the meantime is not shown.
    const shown = new Set<string>();
    for (const taskId of new Set(rows.map((r) => r.task_id))) {
      try {
        await this.decideAndAppend(taskId, actor, () => ({ type: 'ViewAnswers', viewerId: actor.id }));
        shown.add(taskId);
      } catch (err) {
        if (!(err instanceof AnnotationException) || err.code !== AnnotationErrorCode.SelfReview) throw err;
      }
    }
    const visible = rows.filter((r) => shown.has(r.task_id));
    // Reviewers see who annotated already (the id); the display name says it to people.
    const people = await principalRefs(
      this.dataSource,
      visible.map((r) => r.annotator_id),
    );
    return visible.map((r) => ({
      taskId: r.task_id,
      assignmentId: r.assignment_id,
      itemId: r.item_id,
      imageKey: r.image_key,
      reportKey: r.report_key,
      annotatorId: r.annotator_id,
      annotator: people.get(r.annotator_id)!,
      answer: r.answer,
    }));
  }

  /**
   * Items in adjudication (accepted answers that disagree, or sent by a reviewer), with their
   * answers (accepted; submitted too when a reviewer sent the item), for reviewers who did not
   * annotate them.
   */
  async adjudicationQueue(projectIdParam: string, actor: Actor, limit = 50) {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    await requireProject(this.dataSource, projectId);
    const rows: {
      task_id: string;
      item_id: string;
      image_key: string;
      report_key: string | null;
      agreement: number | null;
      sent_to_adjudication_by: string | null;
      answers: { assignmentId: string; annotatorId: string; answer: Answer; status: 'accepted' | 'submitted' }[];
    }[] = await this.dataSource.query(
      `SELECT t.task_id, t.item_id, t.image_key, t.report_key, t.agreement, t.sent_to_adjudication_by,
                jsonb_agg(jsonb_build_object('assignmentId', a.assignment_id, 'annotatorId', a.annotator_id, 'answer', a.answer, 'status', a.status) ORDER BY a.submitted_at) AS answers
           FROM annotation_tasks t JOIN annotation_assignments a ON a.task_id = t.task_id
                AND (a.status = 'accepted' OR (a.status = 'submitted' AND t.sent_to_adjudication_by IS NOT NULL))
          WHERE t.project_id = $1 AND t.status = 'adjudication'
            AND NOT EXISTS (SELECT 1 FROM annotation_assignments mine WHERE mine.task_id = t.task_id AND mine.annotator_id = $2)
          GROUP BY t.task_id ORDER BY t.seq LIMIT $3`,
      [projectId, actor.id, limit],
    );
    const people = await principalRefs(
      this.dataSource,
      rows.flatMap((r) => r.answers.map((a) => a.annotatorId)),
    );
    return rows.map((r) => ({
      taskId: r.task_id,
      itemId: r.item_id,
      imageKey: r.image_key,
      reportKey: r.report_key,
      agreement: r.agreement,
      /** The reviewer who sent the item; null when its accepted answers missed the threshold. */
      sentBy: r.sent_to_adjudication_by,
      answers: r.answers.map((a) => ({ ...a, annotator: people.get(a.annotatorId)! })),
    }));
  }
}
