import type {
  StoredFile,
  TrainingCompleted,
  TrainingFailed,
  TrainingFailureCode,
  TrainingProgressed,
  TrainingRequested,
  TrainingRunEvent,
  TrainingSnapshotFrozen,
  TrainingStarted,
} from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';

/** The life of one run (stream `training-run-<id>`): requested, frozen, running (perhaps several attempts), then one end. */
export type RunStatus = 'none' | 'requested' | 'frozen' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunState {
  status: RunStatus;
  runId: string | null;
  request: TrainingRequested['data'] | null;
  snapshot: TrainingSnapshotFrozen['data'] | null;
  attempts: number;
  step: number;
  checkpoint: { step: number; files: StoredFile[] } | null;
  cancelRequested: boolean;
}

export const initialRunState: RunState = {
  status: 'none',
  runId: null,
  request: null,
  snapshot: null,
  attempts: 0,
  step: 0,
  checkpoint: null,
  cancelRequested: false,
};

export type RunCommand =
  | { type: 'RequestRun'; data: TrainingRequested['data'] }
  | { type: 'FreezeSnapshot'; data: TrainingSnapshotFrozen['data'] }
  | { type: 'StartAttempt'; data: Omit<TrainingStarted['data'], 'runId' | 'attempt' | 'resumedFromStep'> }
  | { type: 'RecordProgress'; data: Omit<TrainingProgressed['data'], 'runId'> }
  | { type: 'RecordCheckpoint'; step: number; files: StoredFile[] }
  | { type: 'Complete'; data: Omit<TrainingCompleted['data'], 'runId'> }
  | { type: 'Fail'; code: TrainingFailureCode; reason: string; step: number | null }
  | { type: 'RequestCancel' }
  | { type: 'ConfirmCancel'; step: number | null };

export const runStream = (runId: string) => `training-run-${runId}`;

const FINISHED: RunStatus[] = ['completed', 'failed', 'cancelled'];
export const isFinished = (s: RunStatus) => FINISHED.includes(s);

function requireStatus(state: RunState, allowed: RunStatus[], what: string): void {
  if (state.status === 'none') throw new TrainerException(TrainerErrorCode.RunNotFound, `no training run to ${what}`);
  if (!allowed.includes(state.status)) {
    const code = isFinished(state.status) ? TrainerErrorCode.RunFinished : TrainerErrorCode.ConcurrentChange;
    throw new TrainerException(code, `cannot ${what}: the run is ${state.status}`);
  }
}

export function decideRun(state: RunState, command: RunCommand): TrainingRunEvent[] {
  switch (command.type) {
    case 'RequestRun':
      if (state.status !== 'none') throw new TrainerException(TrainerErrorCode.ConcurrentChange, `run ${command.data.runId} exists already`);
      return [{ type: 'TrainingRequested', data: command.data }];
    case 'FreezeSnapshot': {
      requireStatus(state, ['requested'], 'freeze a snapshot');
      const frozen: TrainingRunEvent = { type: 'TrainingSnapshotFrozen', data: command.data };
      const s = command.data.snapshot;
      // The manifest of an empty snapshot is kept (it says why everything was left out); the run ends there.
      if (s.trainItems === 0) {
        const why =
          s.includedItems === 0
            ? `none of the ${s.excludedItems} items of the requested annotation sets may be used: ${s.excluded.map((e) => `${e.count} ${e.reason}`).join(', ') || 'the sets are empty'}`
            : 'every included item is held out; nothing is left to train on';
        return [frozen, failed(state, 'NOTHING_TO_TRAIN_ON', `nothing left to train on: ${why}`, null)];
      }
      return [frozen];
    }
    case 'StartAttempt':
      requireStatus(state, ['frozen', 'running'], 'start the run');
      return [
        {
          type: 'TrainingStarted',
          data: { runId: state.runId!, attempt: state.attempts + 1, ...command.data, resumedFromStep: state.checkpoint?.step ?? null },
        },
      ];
    case 'RecordProgress':
      requireStatus(state, ['running'], 'record progress');
      return [{ type: 'TrainingProgressed', data: { runId: state.runId!, ...command.data } }];
    case 'RecordCheckpoint':
      requireStatus(state, ['running'], 'record a checkpoint');
      return [{ type: 'TrainingCheckpointed', data: { runId: state.runId!, step: command.step, files: command.files } }];
    case 'Complete':
      requireStatus(state, ['running'], 'complete the run');
      return [{ type: 'TrainingCompleted', data: { runId: state.runId!, ...command.data } }];
    case 'Fail':
      requireStatus(state, ['requested', 'frozen', 'running'], 'fail the run');
      return [failed(state, command.code, command.reason, command.step)];
    case 'RequestCancel': {
      requireStatus(state, ['requested', 'frozen', 'running'], 'cancel the run');
      if (state.cancelRequested) return [];
      const asked: TrainingRunEvent = { type: 'TrainingCancelRequested', data: { runId: state.runId! } };
      // Nothing is training yet: the run ends now. A running one stops at its next step boundary.
      return state.status === 'running' ? [asked] : [asked, { type: 'TrainingCancelled', data: { runId: state.runId!, step: null } }];
    }
    case 'ConfirmCancel':
      requireStatus(state, ['requested', 'frozen', 'running'], 'cancel the run');
      return [{ type: 'TrainingCancelled', data: { runId: state.runId!, step: command.step } }];
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

function failed(state: RunState, code: TrainingFailureCode, reason: string, step: number | null): TrainingFailed {
  return { type: 'TrainingFailed', data: { runId: state.runId!, code, reason: reason.slice(0, 2000), step } };
}

export function evolveRun(state: RunState, event: TrainingRunEvent): RunState {
  switch (event.type) {
    case 'TrainingRequested':
      return { ...initialRunState, status: 'requested', runId: event.data.runId, request: event.data };
    case 'TrainingSnapshotFrozen':
      return { ...state, status: 'frozen', snapshot: event.data };
    case 'TrainingStarted':
      return { ...state, status: 'running', attempts: event.data.attempt, step: event.data.resumedFromStep ?? 0 };
    case 'TrainingProgressed':
      return { ...state, step: event.data.step };
    case 'TrainingCheckpointed':
      return { ...state, checkpoint: { step: event.data.step, files: event.data.files } };
    case 'TrainingCompleted':
      return { ...state, status: 'completed', step: event.data.steps };
    case 'TrainingFailed':
      return { ...state, status: 'failed' };
    case 'TrainingCancelRequested':
      return { ...state, cancelRequested: true };
    case 'TrainingCancelled':
      return { ...state, status: 'cancelled' };
  }
}

export const runDecider: Decider<RunState, RunCommand, TrainingRunEvent> = { decide: decideRun, evolve: evolveRun, initialState: initialRunState };
