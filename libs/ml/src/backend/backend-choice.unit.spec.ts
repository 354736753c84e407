import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MultimodalModel, tinyMultimodalConfig } from '../model';
import { applyLora } from '../lora';
import { Trainer } from '../train';
import { collateSft, loraTask, syntheticSftData } from '../train/multimodal-sft';
import { chooseBackendForTraining, forgetBackendChoices, TrainingProbe } from './backend-choice';
import { initMlBackend, mlBackendReport, MlBackendName } from './ml-backend';

// A training step on each backend takes up to seconds on a busy 2-core machine.
jest.setTimeout(120_000);

describe(chooseBackendForTraining.name, () => {
  const saved = process.env.TRELLIS_ML_BACKEND;
  let dir: string;
  beforeEach(() => {
    delete process.env.TRELLIS_ML_BACKEND;
    forgetBackendChoices();
    dir = mkdtempSync(join(tmpdir(), 'backend-choice-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.TRELLIS_ML_BACKEND;
    else process.env.TRELLIS_ML_BACKEND = saved;
  });
  afterAll(async () => {
    await initMlBackend({ prefer: ['cpu'] });
  });

  const noopProbe = (shapeKey: string): TrainingProbe => ({ shapeKey, build: () => ({ step: () => undefined, dispose: () => undefined }) });
  /** Timings by backend, the way a machine would report them; counts the measurements. */
  const timings = (ms: Partial<Record<MlBackendName, number>>) => {
    const measured: string[] = [];
    return {
      measured,
      timeSteps: () => {
        const name = mlBackendReport()!.name;
        measured.push(name);
        return ms[name]!;
      },
    };
  };

  it('measures each candidate, keeps the fastest, and says why with every figure', async () => {
    const t = timings({ cpu: 900, wasm: 150 });
    const choice = await chooseBackendForTraining(noopProbe('tiny/lora'), { candidates: ['cpu', 'wasm'], timeSteps: t.timeSteps });
    expect(t.measured).toEqual(['cpu', 'wasm']);
    expect(choice.report.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.cached).toBe(false);
    expect(choice.reason).toBe('wasm: fastest for tiny/lora over 3 measured steps (wasm 150.0 ms, cpu 900.0 ms)');
    expect(choice.report.notes).toContain(choice.reason);

    const other = timings({ cpu: 100, wasm: 150 });
    expect((await chooseBackendForTraining(noopProbe('small/full'), { candidates: ['cpu', 'wasm'], timeSteps: other.timeSteps })).report.name).toBe('cpu');
  });

  it('caches the choice per shape: the same shape is not measured again, in this process or from the cache file', async () => {
    const cacheFile = join(dir, 'choices.json');
    const first = timings({ cpu: 900, wasm: 150 });
    await chooseBackendForTraining(noopProbe('tiny/lora'), { candidates: ['cpu', 'wasm'], timeSteps: first.timeSteps, cacheFile });
    const again = timings({ cpu: 1, wasm: 2 });
    const cached = await chooseBackendForTraining(noopProbe('tiny/lora'), { candidates: ['cpu', 'wasm'], timeSteps: again.timeSteps, cacheFile });
    expect(again.measured).toEqual([]);
    expect(cached).toMatchObject({ cached: true, msPerStep: { cpu: 900, wasm: 150 } });
    expect(cached.report.name).toBe('wasm');
    expect(cached.reason).toMatch(/^wasm: fastest for tiny\/lora when measured \(wasm 150\.0 ms, cpu 900\.0 ms; cached\)$/);
    // Another process: only the file remembers.
    forgetBackendChoices();
    const fromFile = await chooseBackendForTraining(noopProbe('tiny/lora'), { candidates: ['cpu', 'wasm'], timeSteps: again.timeSteps, cacheFile });
    expect(again.measured).toEqual([]);
    expect(fromFile.report.name).toBe('wasm');
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toEqual({ 'tiny/lora': { backend: 'wasm', msPerStep: { cpu: 900, wasm: 150 } } });
    // Another shape is measured.
    await chooseBackendForTraining(noopProbe('small/lora'), { candidates: ['cpu', 'wasm'], timeSteps: again.timeSteps, cacheFile });
    expect(again.measured).toEqual(['cpu', 'wasm']);
  });

  it('passes over a backend that cannot be set up, naming it, and measures a damaged cache file again', async () => {
    const cacheFile = join(dir, 'choices.json');
    writeFileSync(cacheFile, '{ not json');
    const t = timings({ cpu: 10 });
    const choice = await chooseBackendForTraining(noopProbe('tiny/full'), { candidates: ['tensorflow-gpu', 'cpu'], timeSteps: t.timeSteps, cacheFile });
    expect(t.measured).toEqual(['cpu']);
    expect(choice.report.name).toBe('cpu');
    expect(choice.reason).toMatch(/; tensorflow-gpu unavailable \(/);
  });

  it('leaves a forced TRELLIS_ML_BACKEND unmeasured', async () => {
    process.env.TRELLIS_ML_BACKEND = 'cpu';
    const t = timings({ cpu: 10, wasm: 1 });
    const choice = await chooseBackendForTraining(noopProbe('tiny/full'), { candidates: ['cpu', 'wasm'], timeSteps: t.timeSteps });
    expect(t.measured).toEqual([]);
    expect(choice.reason).toBe('cpu: forced by TRELLIS_ML_BACKEND (not measured)');
  });

  it('refuses a step count that is not a positive integer', async () => {
    await expect(chooseBackendForTraining(noopProbe('x'), { steps: 0 })).rejects.toMatchObject({ code: 'ML_BACKEND_INVALID_OPTIONS', fields: ['steps'] });
  });

  it('times real LoRA training steps of the tiny model on each backend and keeps the one that was faster', async () => {
    const data = syntheticSftData({ seed: 3, subjects: 2, itemsPerSubject: 1, heldOutSubjects: 0 });
    const probe: TrainingProbe = {
      shapeKey: 'tiny/lora/batch2',
      build: () => {
        const model = new MultimodalModel(tinyMultimodalConfig({ vocabSize: data.tokenizer.vocabSize, imageTokenId: data.tokenizer.imageId }), 1);
        const adapters = applyLora(model, { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] });
        const trainer = new Trainer(loraTask(model, adapters), data.train, (items) => collateSft(items, data.tokenizer.padId), { batchSize: 2, seed: 1 });
        return {
          step: () => void trainer.trainStep(),
          dispose: () => {
            trainer.dispose();
            model.dispose();
          },
        };
      },
    };
    const choice = await chooseBackendForTraining(probe, { candidates: ['cpu', 'wasm'], steps: 1 });
    expect(Object.keys(choice.msPerStep).sort()).toEqual(['cpu', 'wasm']);
    const fastest = choice.msPerStep.cpu! <= choice.msPerStep.wasm! ? 'cpu' : 'wasm';
    expect(choice.report.name).toBe(fastest);
    expect(tf.getBackend()).toBe(fastest);
  });
});
