import type { TrainingRequested, TrainingRunEvent, TrainingSnapshotFrozen } from '@trellis/contracts';

/** Test data: the events of one training run, the one builder style of the trainer's specs. */
export const RUN_ID = '01930000-0000-7000-8000-000000000001';
export const SHA = 'a'.repeat(64);

export class RunEvents {
  static requested(): TrainingRequested {
    return {
      type: 'TrainingRequested',
      data: {
        runId: RUN_ID,
        method: 'lora',
        baseModel: { baseModelId: '01930000-0000-7000-8000-0000000000b1', manifestSha256: SHA },
        teacher: null,
        annotationSets: [{ setId: '01930000-0000-7000-8000-0000000000a1', projectId: '01930000-0000-7000-8000-0000000000a2', version: 1, contentSha256: SHA }],
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
        runId: RUN_ID,
        totalSteps: 10,
        replaces: null,
        snapshot: {
          manifest: { name: 'snapshot.json', key: `training-snapshots/${SHA}`, sha256: SHA, size: 10 },
          merkleRoot: SHA,
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
    return { type: 'TrainingStarted', data: { runId: RUN_ID, attempt, worker: 'w', backend: 'cpu', device: 'cpu', notes: [], resumedFromStep } };
  }
}
