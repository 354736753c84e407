import type { EvaluationCompleted, EvaluationEvent, EvaluationFailed, EvaluationRequested } from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { RegistryErrorCode, RegistryException } from '../registry.exception';

/** One evaluation (stream `evaluation-<id>`): requested, running (perhaps several attempts), then completed or failed. */
export type EvaluationStatus = 'none' | 'requested' | 'running' | 'completed' | 'failed';

export interface EvaluationState {
  status: EvaluationStatus;
  request: EvaluationRequested['data'] | null;
  attempts: number;
}

export type EvaluationCommand =
  | { type: 'RequestEvaluation'; data: EvaluationRequested['data'] }
  | { type: 'StartAttempt'; backend: string }
  | { type: 'Complete'; data: Omit<EvaluationCompleted['data'], 'evaluationId' | 'modelId' | 'modelVersionId' | 'annotationSetSha256'> }
  | { type: 'Fail'; code: EvaluationFailed['data']['code']; reason: string };

export const evaluationStream = (evaluationId: string) => `evaluation-${evaluationId}`;

function requireOpen(state: EvaluationState, what: string): EvaluationRequested['data'] {
  if (state.status === 'none' || !state.request) throw new RegistryException(RegistryErrorCode.EvaluationNotFound, `no evaluation to ${what}`);
  if (state.status === 'completed' || state.status === 'failed')
    throw new RegistryException(RegistryErrorCode.ConcurrentChange, `cannot ${what}: the evaluation is ${state.status}`);
  return state.request;
}

function decide(state: EvaluationState, command: EvaluationCommand): EvaluationEvent[] {
  switch (command.type) {
    case 'RequestEvaluation':
      if (state.status !== 'none') throw new RegistryException(RegistryErrorCode.ConcurrentChange, 'the evaluation exists already');
      return [{ type: 'EvaluationRequested', data: command.data }];
    case 'StartAttempt': {
      const r = requireOpen(state, 'start');
      return [{ type: 'EvaluationStarted', data: { evaluationId: r.evaluationId, attempt: state.attempts + 1, backend: command.backend } }];
    }
    case 'Complete': {
      const r = requireOpen(state, 'complete');
      if (state.status !== 'running') throw new RegistryException(RegistryErrorCode.ConcurrentChange, 'cannot complete an evaluation that has not started');
      return [
        {
          type: 'EvaluationCompleted',
          data: {
            ...command.data,
            evaluationId: r.evaluationId,
            modelId: r.modelId,
            modelVersionId: r.modelVersionId,
            annotationSetSha256: r.annotationSet.contentSha256,
          },
        },
      ];
    }
    case 'Fail': {
      const r = requireOpen(state, 'fail');
      return [{ type: 'EvaluationFailed', data: { evaluationId: r.evaluationId, code: command.code, reason: command.reason } }];
    }
    default:
      return command satisfies never;
  }
}

function evolve(state: EvaluationState, event: EvaluationEvent): EvaluationState {
  switch (event.type) {
    case 'EvaluationRequested':
      return { ...state, status: 'requested', request: event.data };
    case 'EvaluationStarted':
      return { ...state, status: 'running', attempts: event.data.attempt };
    case 'EvaluationCompleted':
      return { ...state, status: 'completed' };
    case 'EvaluationFailed':
      return { ...state, status: 'failed' };
    default:
      return event satisfies never;
  }
}

export const evaluationDecider: Decider<EvaluationState, EvaluationCommand, EvaluationEvent> = {
  decide,
  evolve,
  initialState: { status: 'none', request: null, attempts: 0 },
};
