/**
 * The worker process of one evaluation (forked by EvaluationExecutor): takes one job over IPC,
 * loads the version, generates and scores, reports over IPC and exits. When the registry process
 * dies the IPC channel closes and the worker exits; the evaluation is run again by whichever
 * registry takes it over once the lease lapses.
 */
import 'reflect-metadata';
import { initMlBackend } from '@trellis/ml';
import { EvaluationScoringErrorCode, EvaluationScoringException } from '../scoring/evaluation-scoring.exception';
import { runEvaluationJob } from '../scoring/evaluation-job';
import type { EvaluationHostMessage, EvaluationWorkerMessage } from './evaluation-worker-protocol';

function send(message: EvaluationWorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

function failure(err: unknown): EvaluationWorkerMessage {
  if (err instanceof EvaluationScoringException) {
    const codes = {
      [EvaluationScoringErrorCode.DataUnreadable]: 'DATA_UNREADABLE',
      [EvaluationScoringErrorCode.ModelUnreadable]: 'MODEL_UNREADABLE',
      [EvaluationScoringErrorCode.NothingToScore]: 'NOTHING_TO_SCORE',
      [EvaluationScoringErrorCode.InvalidInput]: 'INTERNAL',
    } as const;
    const code = codes[err.code];
    return { type: 'failed', code, reason: err.message.slice(0, 2000) };
  }
  // An unexpected error's message may quote anything; the registry's log gets the stack, the event a fixed reason.
  console.error('evaluation worker:', err);
  return { type: 'failed', code: 'INTERNAL', reason: 'the evaluation worker failed unexpectedly; see the registry log' };
}

process.on('disconnect', () => process.exit(3));
process.on('message', (raw: EvaluationHostMessage) => {
  if (raw.type !== 'job') return;
  void (async () => {
    try {
      const backend = await initMlBackend();
      await send({ type: 'started', backend: backend.name });
      const result = await runEvaluationJob(raw.job, (p) => void send({ type: 'progress', ...p }));
      await send({ type: 'done', result });
      process.exit(0);
    } catch (err) {
      await send(failure(err));
      process.exit(1);
    }
  })();
});
