import type { EvaluationFailed } from '@trellis/contracts';
import type { EvaluationJob, EvaluationJobResult } from '../scoring/evaluation-job';

/** Registry -> worker. */
export type EvaluationHostMessage = { type: 'job'; job: EvaluationJob };

/** Worker -> registry. */
export type EvaluationWorkerMessage =
  | { type: 'started'; backend: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; result: EvaluationJobResult }
  | { type: 'failed'; code: EvaluationFailed['data']['code']; reason: string };
