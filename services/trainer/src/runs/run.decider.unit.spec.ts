import type { TrainingRequested, TrainingRunEvent, TrainingSnapshotFrozen } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { RunCommand, runDecider, RunState } from './run.decider';

const spec = deciderSpec<RunState, RunCommand, TrainingRunEvent>(runDecider);
const runId = '01930000-0000-7000-8000-000000000001';
const sha = 'a'.repeat(64);

class RunEvents {
  static requested(): TrainingRequested {
    return {
      type: 'TrainingRequested',
      data: {
        runId,
        method: 'lora',
        baseModel: { baseModelId: '01930000-0000-7000-8000-0000000000b1', manifestSha256: sha },
        teacher: null,
        annotationSets: [{ setId: '01930000-0000-7000-8000-0000000000a1', projectId: '01930000-0000-7000-8000-0000000000a2', version: 1, contentSha256: sha }],
        evaluation: { kind: 'held-out', fraction: 0.2 },
        hyperparameters: {
          lora: { rank: 8, alpha: 16, dropout: 0, targetModules: ['q_proj'], rslora: false },
          learningRate: 1e-3,
          warmupSteps: 0,
          schedule: 'constant',
          weightDecay: 0,
          batchSize: 2,
          gradAccumulation: 1,
          maxGradNorm: 1,
          steps: 10,
          epochs: null,
          seed: 0,
          evalEvery: 5,
          checkpointEvery: 5,
          distillation: null,
        },
        purpose: 'model-training',
        replaces: null,
      },
    };
  }
  static frozen(trainItems = 8, includedItems = 10): TrainingSnapshotFrozen {
    return {
      type: 'TrainingSnapshotFrozen',
      data: {
        runId,
        totalSteps: 10,
        replaces: null,
        snapshot: {
          manifest: { name: 'snapshot.json', key: `training-snapshots/${sha}`, sha256: sha, size: 10 },
          merkleRoot: sha,
          includedItems,
          excludedItems: 2,
          includedSubjects: 5,
          excluded: [{ reason: 'consent-withdrawn', count: 2 }],
          trainItems,
          heldOutItems: includedItems - trainItems,
          trainSubjects: 4,
          heldOutSubjects: 1,
          consentAsOf: '2026-12-04T00:00:00.000Z',
        },
      },
    };
  }
  static started(attempt = 1, resumedFromStep: number | null = null): TrainingRunEvent {
    return { type: 'TrainingStarted', data: { runId, attempt, worker: 'w', backend: 'cpu', device: 'cpu', notes: [], resumedFromStep } };
  }
}

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
