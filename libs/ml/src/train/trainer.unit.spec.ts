import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expectException } from '../expect-exception.fixture';
import { Linear } from '../layers';
import { applyLora, LoraAdapters } from '../lora/lora-adapters';
import { ToyHost } from '../lora/toy-host.fixture';
import { SafetensorsErrorCode, SafetensorsException } from '../safetensors';
import { CHECKPOINT_STATE_FILE, evaluateLoss, Trainer, TrainerOptions, TrainingProgress, TrainTask } from './trainer';
import { TrainingErrorCode, TrainingException } from './training.exception';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Item {
  x: number[];
  y: number[];
}
interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** A regression data set the toy MLP can fit: y = a fixed linear map of x, squashed. */
function dataset(n: number, seed: number): Item[] {
  const x = tf.randomNormal([n, 8], 0, 1, 'float32', seed).arraySync() as number[][];
  return x.map((row) => ({ x: row, y: [0, 1, 2, 3, 4].map((k) => Math.tanh(row[k] - 0.5 * row[(k + 3) % 8])) }));
}
const collate = (items: Item[]): Batch => ({ x: tf.tensor2d(items.map((i) => i.x)), y: tf.tensor2d(items.map((i) => i.y)) });

function loraTask(host: ToyHost, adapters: LoraAdapters): TrainTask<Batch> {
  return {
    variables: () => adapters.namedWeights(),
    loss: (b) => host.loss(b.x, b.y),
    tokens: (b) => b.x.shape[0],
    setTraining: (f) => adapters.setTraining(f),
    rngState: () => adapters.rngState(),
    setRngState: (s) => adapters.setRngState(s as Record<string, number>),
  };
}

function fullTask(host: ToyHost): TrainTask<Batch> {
  const named = new Map<string, tf.Variable>();
  for (const [n, l] of host.linearLayers()) {
    const lin = l as Linear;
    named.set(`${n}.weight`, lin.weight);
    if (lin.bias) named.set(`${n}.bias`, lin.bias);
  }
  return { variables: () => named, loss: (b) => host.loss(b.x, b.y), tokens: (b) => b.x.shape[0] };
}

const OPTIONS: TrainerOptions = {
  batchSize: 4,
  seed: 7,
  optimizer: { lr: 0.02, weightDecay: 0.01 },
  schedule: { warmupSteps: 2, totalSteps: 12 },
  maxGradNorm: 1,
};

function loraSetup(): { host: ToyHost; adapters: LoraAdapters; task: TrainTask<Batch> } {
  const host = new ToyHost(8, 16, 5, 11);
  const adapters = applyLora(host, { r: 4, alpha: 8, dropout: 0.2, targetModules: ['up_proj', 'down_proj', 'lm_head'], seed: 5 });
  return { host, adapters, task: loraTask(host, adapters) };
}

describe(Trainer.name, () => {
  describe('trainStep', () => {
    it('lowers the loss, reports progress and leaks no tensors', () => {
      const { host, task } = loraSetup();
      const data = dataset(24, 1);
      const seen: TrainingProgress[] = [];
      const trainer = new Trainer(task, data, collate, { ...OPTIONS, onProgress: (p) => seen.push(p) });
      const before = evaluateLoss(task, data, collate, 8);
      trainer.trainStep(); // creates the AdamW moments
      const tensors = tf.memory().numTensors;
      trainer.train(11);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(evaluateLoss(task, data, collate, 8)).toBeLessThan(before * 0.7);
      expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(seen[0].lr).toBe(0); // warmup starts at 0, as transformers' schedule
      expect(seen[2].lr).toBeCloseTo(0.02, 10);
      expect(seen.every((p) => p.tokens === 4 && p.tokensPerSecond > 0 && Number.isFinite(p.loss) && p.gradNorm > 0)).toBe(true);
      expect(seen[11].epoch).toBe(1); // 24 items in batches of 4: epoch 0 is steps 1..6
      trainer.dispose();
      host.dispose();
    });

    it('averages gradients over micro-batches: 2 x 2 items equals one batch of 4', () => {
      const data = dataset(4, 2); // one step covers the whole data set either way
      const run = (batchSize: number, gradAccumulation: number) => {
        const host = new ToyHost(8, 16, 5, 3);
        const trainer = new Trainer(fullTask(host), data, collate, { batchSize, gradAccumulation, seed: 1, optimizer: { lr: 0.01 }, maxGradNorm: null });
        const p = trainer.trainStep();
        const w = [...host.linearLayers().values()].map((l) => Array.from((l as Linear).weight.dataSync()));
        trainer.dispose();
        host.dispose();
        return { p, w };
      };
      const acc = run(2, 2);
      const whole = run(4, 1);
      expect(acc.p.gradNorm).toBeCloseTo(whole.p.gradNorm, 5);
      expect(acc.p.tokens).toBe(4);
      for (let l = 0; l < 3; l++) for (let i = 0; i < acc.w[l].length; i++) expect(Math.abs(acc.w[l][i] - whole.w[l][i])).toBeLessThan(1e-6);
    });

    it('stops with an error naming the step when the loss turns NaN, before touching the weights', () => {
      const host = new ToyHost(8, 16, 5, 3);
      const inner = fullTask(host);
      let calls = 0;
      const task: TrainTask<Batch> = { ...inner, loss: (b) => (++calls === 3 ? (tf.mul(inner.loss(b), NaN) as tf.Scalar) : inner.loss(b)) };
      const trainer = new Trainer(task, dataset(16, 3), collate, OPTIONS);
      trainer.train(2);
      const w = Array.from((host.layer('lm_head') as Linear).weight.dataSync());
      const tensors = tf.memory().numTensors;
      const error = expectException(
        () => trainer.trainStep(),
        TrainingException,
        TrainingErrorCode.Diverged,
        /loss is NaN at step 3 \(micro-batch 1 of 1\); weights were not updated/,
      );
      expect(error.step).toBe(3);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(Array.from((host.layer('lm_head') as Linear).weight.dataSync())).toEqual(w);
      expect(trainer.step).toBe(2);
      trainer.dispose();
      host.dispose();
    });
  });

  describe('loadCheckpoint', () => {
    it('resumes bit-identically: 2N steps equal N + checkpoint + resume + N', () => {
      const data = dataset(20, 4);
      const N = 5;
      const straight = loraSetup();
      const t1 = new Trainer(straight.task, data, collate, OPTIONS);
      const losses1 = t1.train(2 * N).map((p) => p.loss);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-ckpt-'));
      const first = loraSetup();
      const t2 = new Trainer(first.task, data, collate, OPTIONS);
      const lossesA = t2.train(N).map((p) => p.loss);
      t2.saveCheckpoint(dir);
      t2.dispose();
      first.host.dispose();

      const second = loraSetup(); // a fresh process would build the model the same way
      const t3 = new Trainer(second.task, data, collate, OPTIONS);
      t3.loadCheckpoint(dir);
      expect(t3.step).toBe(N);
      const lossesB = t3.train(N).map((p) => p.loss);

      expect([...lossesA, ...lossesB]).toEqual(losses1);
      for (const [name, v] of straight.adapters.namedWeights()) {
        expect(Array.from(second.adapters.namedWeights().get(name)!.dataSync())).toEqual(Array.from(v.dataSync()));
      }
      t1.dispose();
      t3.dispose();
      straight.host.dispose();
      second.host.dispose();
    });

    it('refuses a checkpoint of a different run', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-ckpt-'));
      const { host, task } = loraSetup();
      const t = new Trainer(task, dataset(8, 1), collate, OPTIONS);
      t.trainStep();
      t.saveCheckpoint(dir);
      const other = new Trainer(task, dataset(8, 1), collate, { ...OPTIONS, batchSize: 2 });
      expectException(
        () => other.loadCheckpoint(dir),
        TrainingException,
        TrainingErrorCode.CheckpointIncompatible,
        /checkpoint settings .* differ from this trainer's/,
      );
      expectException(() => other.loadCheckpoint(path.join(dir, 'nope')), TrainingException, TrainingErrorCode.CheckpointNotFound, /no checkpoint at/);
      t.dispose();
      other.dispose();
      host.dispose();
    });

    it('refuses tensors that do not fit the task, naming them, before assigning anything', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-ckpt-'));
      const small = loraSetup();
      const t = new Trainer(small.task, dataset(8, 1), collate, OPTIONS);
      t.trainStep();
      t.saveCheckpoint(dir);
      const host = new ToyHost(8, 16, 5, 11);
      const adapters = applyLora(host, { r: 2, alpha: 8, targetModules: ['up_proj', 'down_proj', 'lm_head'], seed: 5 });
      const other = new Trainer(loraTask(host, adapters), dataset(8, 1), collate, OPTIONS);
      const before = new Map([...adapters.namedWeights()].map(([k, v]) => [k, Array.from(v.dataSync())]));
      const error = expectException(
        () => other.loadCheckpoint(dir),
        SafetensorsException,
        SafetensorsErrorCode.CheckpointMismatch,
        /checkpoint\.safetensors does not fit/,
      );
      expect(error.message).toMatch(
        /wrong shapes \(18\): param\/base_model\.model\.model\.layers\.0\.mlp\.up_proj\.lora_A\.weight is \[4, 8\], expected \[2, 8\], exp_avg\//,
      );
      expect(error.message).not.toMatch(/missing|unexpected/);
      for (const [k, v] of adapters.namedWeights()) expect(Array.from(v.dataSync())).toEqual(before.get(k));
      expect(other.step).toBe(0);
      t.dispose();
      other.dispose();
      small.host.dispose();
      host.dispose();
    });

    it('says which file is missing or unreadable', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-ckpt-'));
      const { host, task } = loraSetup();
      const t = new Trainer(task, dataset(8, 1), collate, OPTIONS);
      t.saveCheckpoint(dir);
      fs.writeFileSync(path.join(dir, CHECKPOINT_STATE_FILE), '{ not json');
      expectException(() => t.loadCheckpoint(dir), TrainingException, TrainingErrorCode.CheckpointIncompatible, /trainer_state\.json is not JSON/);
      fs.rmSync(path.join(dir, 'checkpoint.safetensors'));
      expectException(() => t.loadCheckpoint(dir), TrainingException, TrainingErrorCode.CheckpointNotFound, /missing checkpoint\.safetensors/);
      t.dispose();
      host.dispose();
    });
  });
});
