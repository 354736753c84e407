import type { EventEnvelope, TrainingRunEvent } from '@trellis/contracts';
import { RunState, runDecider } from '../runs/run.decider';
import { RUN_ID, RunEvents } from '../runs/run-events.fixture';
import { coreErrors, facetErrors } from './openlineage-schema.fixture';
import { runEventsFor } from './openlineage.recorder';

const runId = RUN_ID;
const sha = (c: string) => c.repeat(64);
const file = (name: string, c: string) => ({ name, key: `training-runs/${runId}/artifacts/${sha(c)}`, sha256: sha(c), size: 10 });
const events: TrainingRunEvent[] = [RunEvents.requested(), RunEvents.frozen()];
const setId = RunEvents.requested().data.annotationSets[0].setId;
const manifest = RunEvents.frozen().data.snapshot.manifest;
const started = RunEvents.started();
const checkpointed: TrainingRunEvent = { type: 'TrainingCheckpointed', data: { runId, step: 5, files: [file('checkpoint.safetensors', '1')] } };
const completed: TrainingRunEvent = {
  type: 'TrainingCompleted',
  data: {
    runId,
    artifacts: [file('adapter_model.safetensors', '2'), manifest],
    steps: 10,
    finalTrainLoss: 1,
    finalHeldOutLoss: 1.5,
    baseHeldOutLoss: 2,
    tokensSeen: 100,
    wallSeconds: 1,
    backend: 'tensorflow',
  },
};
const failed: TrainingRunEvent = { type: 'TrainingFailed', data: { runId, code: 'DIVERGED', reason: 'loss is NaN at step 3', step: 3 } };

const envelope = (e: TrainingRunEvent, n: number): EventEnvelope =>
  ({ type: e.type, data: e.data, occurredAt: `2026-12-04T00:00:0${n}.000Z` }) as unknown as EventEnvelope;
const stateOf = (es: TrainingRunEvent[]): RunState => es.reduce(runDecider.evolve, runDecider.initialState);

describe('runEventsFor', () => {
  it('gives START, RUNNING at checkpoints, and COMPLETE with the artifacts (not the snapshot) as outputs, valid against the 2-0-2 schema', () => {
    const start = runEventsFor(envelope(started, 1), stateOf([...events, started]), false);
    const running = runEventsFor(envelope(checkpointed, 2), stateOf([...events, started, checkpointed]), true);
    const complete = runEventsFor(envelope(completed, 3), stateOf([...events, started, checkpointed, completed]), true);
    expect([...start, ...running, ...complete].map((e) => e.eventType)).toEqual(['START', 'RUNNING', 'COMPLETE']);
    for (const e of [...start, ...running, ...complete]) expect([...coreErrors(e), ...facetErrors(e)]).toEqual([]);
    expect(start[0].eventTime).toBe('2026-12-04T00:00:01.000Z');
    expect(start[0].inputs.map((i) => i.name)).toEqual([`annotation-sets/${setId}`, `artifacts/${manifest.key}`]);
    expect(complete[0].outputs.map((o) => o.name)).toEqual([`artifacts/training-runs/${runId}/artifacts/${sha('2')}`]);
  });

  it('resumes as RUNNING, and gives a run that ends before it started its START first', () => {
    const again: TrainingRunEvent = { type: 'TrainingStarted', data: { ...started.data, attempt: 2, resumedFromStep: 5 } } as TrainingRunEvent;
    expect(runEventsFor(envelope(again, 4), stateOf([...events, started, checkpointed, again]), true).map((e) => e.eventType)).toEqual(['RUNNING']);
    const fail = runEventsFor(envelope(failed, 5), stateOf([...events, failed]), false);
    expect(fail.map((e) => e.eventType)).toEqual(['START', 'FAIL']);
    expect(fail[1].run.facets.errorMessage).toMatchObject({ message: 'DIVERGED: loss is NaN at step 3' });
    for (const e of fail) expect([...coreErrors(e), ...facetErrors(e)]).toEqual([]);
    const cancelled: TrainingRunEvent = { type: 'TrainingCancelled', data: { runId, step: 4 } };
    expect(runEventsFor(envelope(cancelled, 6), stateOf([...events, started, cancelled]), true).map((e) => e.eventType)).toEqual(['ABORT']);
  });

  it('says nothing for progress', () => {
    const progress: TrainingRunEvent = {
      type: 'TrainingProgressed',
      data: { runId, step: 1, totalSteps: 10, loss: 1, learningRate: 1, tokensPerSecond: 1, tokensSeen: 1, heldOutLoss: null },
    };
    expect(runEventsFor(envelope(progress, 7), stateOf([...events, started, progress]), true)).toEqual([]);
  });
});
