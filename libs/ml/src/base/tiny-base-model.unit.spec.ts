import * as tf from '@tensorflow/tfjs-core';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectRejection } from '../expect-exception.fixture';
import { fixtureValues, maxAbsDiff } from '../model/reference/reference-fixtures';
import { buildTrainingExample } from '../model/training-example';
import { TrainingErrorCode, TrainingException } from '../train/training.exception';
import { readBaseCheckpoint, writeBaseCheckpoint } from './base-checkpoint';
import { HF_TINY_BASE_SEED_11 as HF } from './hf-load-check.values';
import { createTinyBaseModel, TINY_BASE_PRETRAINING, type TinyBaseModel } from './tiny-base-model';

// About 4 s for createTinyBaseModel here on native TensorFlow, 25 s on cpu-blas, over two
// minutes on the plain JavaScript cpu backend (jest runs tfjs' JavaScript kernels slower than node).
jest.setTimeout(300_000);

async function write(dir: string, created: TinyBaseModel): Promise<void> {
  await writeBaseCheckpoint(dir, created);
}

let root: string;
let created: TinyBaseModel;
let tensorsBefore: number;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trellis-tiny-base-'));
  tensorsBefore = tf.memory().numTensors;
  created = await createTinyBaseModel({ seed: HF.seed });
});

afterAll(async () => {
  created.model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

describe('createTinyBaseModel', () => {
  it('pre-trains the held-out loss clearly below where the random initialisation starts', () => {
    expect(created.steps).toBe(TINY_BASE_PRETRAINING.steps);
    expect(created.finalHeldOutLoss).toBeLessThan(0.6 * created.initialHeldOutLoss);
    // A uniform guess over the vocabulary: where an untrained model should start.
    expect(created.initialHeldOutLoss).toBeGreaterThan(0.9 * Math.log(created.tokenizer.vocabSize));
  });

  it('sizes the tiny configuration to the synthetic tokenizer', () => {
    expect(created.config.text.vocabSize).toBe(created.tokenizer.vocabSize);
    expect(created.config.imageTokenId).toBe(created.tokenizer.imageId);
    expect(created.model.config).toEqual(created.config);
  });

  it('gives the same weight bytes for the same seed, and others for another seed', async () => {
    const bytes = async (seed: number, name: string) => {
      const m = await createTinyBaseModel({ seed, steps: 4 });
      try {
        await write(path.join(root, name), m);
      } finally {
        m.model.dispose();
      }
      return fs.readFile(path.join(root, name, 'model.safetensors'));
    };
    const a = await bytes(5, 'a');
    const b = await bytes(5, 'b');
    const c = await bytes(6, 'c');
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('keeps the random initialisation with steps 0 and refuses a step count that is not a count', async () => {
    const untrained = await createTinyBaseModel({ seed: 5, steps: 0 });
    expect(untrained.finalHeldOutLoss).toBe(untrained.initialHeldOutLoss);
    untrained.model.dispose();
    const error = await expectRejection(createTinyBaseModel({ seed: 5, steps: 2.5 }), TrainingException, TrainingErrorCode.InvalidOptions);
    expect(error.fields).toEqual(['steps']);
  });

  it('reports each step', async () => {
    const steps: number[] = [];
    const m = await createTinyBaseModel({ seed: 5, steps: 3, onProgress: (p) => steps.push(p.step) });
    m.model.dispose();
    expect(steps).toEqual([1, 2, 3]);
  });

  it('leaves no tensor behind once its model and the one read back from its checkpoint are disposed', async () => {
    const before = tf.memory().numTensors;
    const m = await createTinyBaseModel({ seed: 7, steps: 2 });
    await write(path.join(root, 'seed-7'), m);
    m.model.dispose();
    (await readBaseCheckpoint(path.join(root, 'seed-7'))).model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The beforeAll model is the only one still held.
    expect(before - tensorsBefore).toBe(created.model.namedWeights().size);
  });
});

describe('the tiny base checkpoint in Hugging Face transformers', () => {
  // hf-load-check.py loaded the checkpoint of createTinyBaseModel({ seed: 11 }) with
  // LlavaForConditionalGeneration.from_pretrained (no missing, unexpected or mismatched key)
  // and its tokenizer.json with `tokenizers`.
  it('tokenises as `tokenizers` does and gives the logits transformers gives', async () => {
    const dir = path.join(root, 'seed-11');
    await write(dir, created);
    const base = await readBaseCheckpoint(dir);
    const example = buildTrainingExample(base.tokenizer, { prompt: HF.question, answer: HF.answer });
    expect(example.inputIds.slice(0, -1)).toEqual(HF.ids); // ours ends with </s>
    const size = base.config.vision.imageSize;
    const pixels = tf.tidy(() => tf.add(tf.tensor4d(fixtureValues(size * size * 3, 7), [1, size, size, 3]), 0.5));
    const ids = tf.tensor2d([HF.ids], [1, HF.ids.length], 'int32');
    const logits = base.model.forward({ pixelValues: pixels, inputIds: ids });
    expect(logits.shape).toEqual([1, HF.positions, base.config.text.vocabSize]);
    const argmax = tf.tidy(() => tf.argMax(logits, -1));
    expect(Array.from(argmax.dataSync())).toEqual(HF.argmax);
    const tail = tf.tidy(() => tf.slice(logits, [0, HF.positions - 4, 0], [1, 4, -1]));
    // float32 in two libraries and, off the tensorflow backend, weights trained with other kernels.
    expect(maxAbsDiff(tail.dataSync(), HF.logitsTail)).toBeLessThan(1e-4);
    tf.dispose([pixels, ids, logits, argmax, tail]);
    base.model.dispose();
  });
});
