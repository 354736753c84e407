import type { TrainingRunEvent } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { RunCommand, runDecider, RunState } from './run.decider';
import { RUN_ID, RunEvents, SHA } from './run-events.fixture';

const spec = deciderSpec<RunState, RunCommand, TrainingRunEvent>(runDecider);
const runId = RUN_ID;
const sha = SHA;

const refusedWith = (code: TrainerErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(TrainerException);
  expect((err as TrainerException).code).toBe(code);
};

describe('runDecider', () => {
  describe('FreezeSnapshot', () => {
    it('freezes a requested run', () => {
      const frozen = RunEvents.frozen();
      spec.given([RunEvents.requested()]).when({ type: 'FreezeSnapshot', data: frozen.data }).then([frozen]);
    });
    it('keeps the manifest of an empty snapshot and fails the run with the reason', () => {
      const frozen = RunEvents.frozen(0, 0);
      const events = runDecider.decide([RunEvents.requested()].reduce(runDecider.evolve, runDecider.initialState), {
        type: 'FreezeSnapshot',
        data: frozen.data,
      });
      expect(events.map((e) => e.type)).toEqual(['TrainingSnapshotFrozen', 'TrainingFailed']);
      expect(events[1].data).toMatchObject({ code: 'NOTHING_TO_TRAIN_ON', reason: expect.stringContaining('2 consent-withdrawn') });
    });
    it('refuses to freeze twice', () => {
      spec
        .given([RunEvents.requested(), RunEvents.frozen()])
        .when({ type: 'FreezeSnapshot', data: RunEvents.frozen().data })
        .thenThrows(refusedWith(TrainerErrorCode.ConcurrentChange));
    });
  });

  describe('StartAttempt', () => {
    it('counts attempts and resumes from the last checkpoint', () => {
      const checkpointed: TrainingRunEvent = { type: 'TrainingCheckpointed', data: { runId, step: 5, files: [{ name: 'a', key: 'k', sha256: sha, size: 1 }] } };
      spec
        .given([RunEvents.requested(), RunEvents.frozen(), RunEvents.started(), checkpointed])
        .when({ type: 'StartAttempt', data: { worker: 'w2', backend: 'cpu', device: 'cpu', notes: [] } })
        .then([{ type: 'TrainingStarted', data: { runId, attempt: 2, worker: 'w2', backend: 'cpu', device: 'cpu', notes: [], resumedFromStep: 5 } }]);
    });
    it('refuses to start a run that is not frozen', () => {
      spec
        .given([RunEvents.requested()])
        .when({ type: 'StartAttempt', data: { worker: 'w', backend: 'cpu', device: 'cpu', notes: [] } })
        .thenThrows(refusedWith(TrainerErrorCode.ConcurrentChange));
    });
  });

  describe('RequestCancel', () => {
    it('ends a queued run at once', () => {
      spec
        .given([RunEvents.requested(), RunEvents.frozen()])
        .when({ type: 'RequestCancel' })
        .then([
          { type: 'TrainingCancelRequested', data: { runId } },
          { type: 'TrainingCancelled', data: { runId, step: null } },
        ]);
    });
    it('only asks a running run to stop, once', () => {
      spec
        .given([RunEvents.requested(), RunEvents.frozen(), RunEvents.started()])
        .when({ type: 'RequestCancel' })
        .then([{ type: 'TrainingCancelRequested', data: { runId } }]);
      spec
        .given([RunEvents.requested(), RunEvents.frozen(), RunEvents.started(), { type: 'TrainingCancelRequested', data: { runId } }])
        .when({ type: 'RequestCancel' })
        .then([]);
    });
    it('refuses to cancel a finished run', () => {
      spec
        .given([RunEvents.requested(), { type: 'TrainingFailed', data: { runId, code: 'INTERNAL', reason: 'x', step: null } }])
        .when({ type: 'RequestCancel' })
        .thenThrows(refusedWith(TrainerErrorCode.RunFinished));
    });
  });

  it('refuses progress and completion outside a running attempt, and an unknown run', () => {
    const progress: RunCommand = {
      type: 'RecordProgress',
      data: { step: 1, totalSteps: 10, loss: 1, learningRate: 1, tokensPerSecond: 1, tokensSeen: 1, heldOutLoss: null },
    };
    spec.given([RunEvents.requested(), RunEvents.frozen()]).when(progress).thenThrows(refusedWith(TrainerErrorCode.ConcurrentChange));
    spec.given([]).when(progress).thenThrows(refusedWith(TrainerErrorCode.RunNotFound));
  });
});
