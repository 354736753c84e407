import { z } from 'zod';
import { MAX_TEXT_LENGTH, MAX_VERSION, parseVersionNumber, safeText, TASK_TYPES, TaskType } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';

/** What the task rules need to know about a project. */
export interface ProjectRules {
  taskType: TaskType;
  labels: string[];
  annotationsPerItem: number;
  agreementThreshold: number;
  maxTextLength: number;
  /** Whether a rejected item may go back to the annotator it was rejected from when nobody else is left. */
  reassignRejectedToSameAnnotator: boolean;
}

export const DEFAULT_MAX_TEXT_LENGTH = 1000;

/** A version number from a path parameter (the one reading in @trellis/contracts), else a 400 naming it. */
export function parseVersionParam(v: string | undefined): number {
  const n = parseVersionNumber(v);
  if (n === undefined) {
    throw new AnnotationException(AnnotationErrorCode.InvalidRequest, `version must be a version number (an integer from 1 to ${MAX_VERSION})`, [
      'params.version',
    ]);
  }
  return n;
}

export const CreateProjectRequest = z
  .object({
    name: safeText({ max: 200, refusePersonalData: true }),
    /** The dataset's id, or its name (resolved through the dataset versions annotation has received). */
    datasetId: safeText({ max: 200 }),
    /** A PostgreSQL integer: larger numbers name no version and would overflow the column. */
    datasetVersion: z.number().int().positive().max(MAX_VERSION),
    taskType: z.enum(TASK_TYPES),
    labels: z
      .array(safeText({ max: 200, refusePersonalData: true }))
      .max(500)
      .optional(),
    guidelines: safeText({ max: 20_000, multiline: true, refusePersonalData: true }),
    annotationsPerItem: z.number().int().min(1).max(10),
    agreementThreshold: z.number().min(0).max(1),
    maxTextLength: z.number().int().min(1).max(MAX_TEXT_LENGTH).optional(),
    /** Off by default: a second opinion should come from a second person while there is one. */
    reassignRejectedToSameAnnotator: z.boolean().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const labels = p.labels ?? [];
    if (p.taskType === 'classification') {
      if (labels.length < 2) ctx.addIssue({ code: 'custom', path: ['labels'], message: 'a classification project needs at least two labels' });
      const dup = labels.find((l, i) => labels.indexOf(l) !== i);
      if (dup) ctx.addIssue({ code: 'custom', path: ['labels', labels.indexOf(dup, labels.indexOf(dup) + 1)], message: 'appears twice in the label set' });
    } else if (labels.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `only classification projects have labels, not ${p.taskType}` });
    }
  });
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;
