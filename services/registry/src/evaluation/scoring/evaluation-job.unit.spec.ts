import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  applyLora,
  type BaseCheckpoint,
  buildTrainingExample,
  collateSft,
  createTinyBaseModel,
  initMlBackend,
  type LoraAdapters,
  quantizeModel,
  readBaseCheckpoint,
  writeBaseCheckpoint,
} from '@trellis/ml';
import sharp from 'sharp';
import { EvaluationScoringErrorCode, EvaluationScoringException } from './evaluation-scoring.exception';
import { type EvaluationItem, type EvaluationJob, PREDICTIONS_FILE, readPredictions, runEvaluationJob } from './evaluation-job';
import { scorePredictions } from './evaluation-scorer';

// A tiny random base (no pre-training steps) is enough: the test is about loading, applying and
// decoding, not about answer quality. A few seconds on native TensorFlow.
jest.setTimeout(120_000);

const MAX_NEW_TOKENS = 4;
const SEED = 7;
/** The trainer's prompts (services/trainer snapshot.ts supervisedPairs), given per item until they live in a library. */
const CAPTION_PROMPT = 'Describe the image.';
const LABEL_PROMPT = 'What is shown in the image?';

const ITEMS: EvaluationItem[] = [
  {
    itemId: 'item-1',
    subjectId: 's-1',
    imagePath: 'red.png',
    prompt: CAPTION_PROMPT,
    answer: { kind: 'caption', caption: 'a round opacity in the left lobe' },
  },
  {
    itemId: 'item-2',
    subjectId: 's-1',
    imagePath: 'images/blue.jpg',
    answer: {
      kind: 'vqa',
      pairs: [
        { question: 'Is there an opacity?', answer: 'yes' },
        { question: 'Which side?', answer: 'left' },
      ],
    },
  },
  { itemId: 'item-3', subjectId: 's-2', imagePath: 'red.png', prompt: LABEL_PROMPT, answer: { kind: 'classification', label: 'nodule' } },
];
/** The questions of ITEMS in file order, as the trainer would pair them. */
const PAIRS = [
  { image: 'red.png', prompt: CAPTION_PROMPT, answer: 'a round opacity in the left lobe' },
  { image: 'images/blue.jpg', prompt: 'Is there an opacity?', answer: 'yes' },
  { image: 'images/blue.jpg', prompt: 'Which side?', answer: 'left' },
  { image: 'red.png', prompt: LABEL_PROMPT, answer: 'nodule' },
];

let root: string;
let baseDir: string;
let itemsPath: string;
/** Each image as the trainer feeds it (training-job.ts loadImages), by path. */
const rgbOf = new Map<string, Uint8Array>();

async function trainerRgb(file: string, size: number): Promise<Uint8Array> {
  const rgb = await sharp(await fs.readFile(file))
    .removeAlpha()
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
}

/** What the library's generation answers, with the model as it is in memory. */
function directAnswers(c: BaseCheckpoint): string[] {
  return PAIRS.map((p) => {
    const example = buildTrainingExample(c.tokenizer, { prompt: p.prompt, answer: p.answer });
    const size = c.config.vision.imageSize;
    const pixels = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(rgbOf.get(p.image)!), [1, size, size, 3]), 255));
    const tokens = c.model.generate(
      { pixelValues: pixels, inputIds: example.inputIds.slice(0, example.promptLength) },
      { maxNewTokens: MAX_NEW_TOKENS, eosId: c.tokenizer.eosId },
    );
    pixels.dispose();
    const text = c.tokenizer.decode(
      tokens.filter((t) => t !== c.tokenizer.eosId),
      { skipSpecial: true },
    );
    return text.replace(/^ /, '');
  });
}

/** The mean causal-LM loss of each pair (libs/ml causalLmLoss, checked against Hugging Face). */
function directLosses(c: BaseCheckpoint): number[] {
  return PAIRS.map((p) => {
    const batch = collateSft([{ rgb: rgbOf.get(p.image)!, size: c.config.vision.imageSize, example: buildTrainingExample(c.tokenizer, p) }], c.tokenizer.padId);
    const loss = c.model.loss(batch);
    const value = loss.dataSync()[0];
    tf.dispose([loss, batch.pixelValues, batch.inputIds, batch.labels]);
    return value;
  });
}

/** LoRA on the attention projections as the trainer applies it (full module names), with B drawn away from PEFT's zero start so the adapter changes the output. */
function nonzeroLora(c: BaseCheckpoint, seed: number): LoraAdapters {
  const targets = [...c.model.linearLayers().keys()].filter((n) => n.startsWith('language_model.') && /\.(q_proj|v_proj|down_proj)$/.test(n));
  const adapters = applyLora(c.model, { r: 2, alpha: 8, targetModules: targets, seed });
  let k = 0;
  for (const layer of adapters.layers.values()) layer.loraB.assign(tf.tidy(() => tf.randomNormal(layer.loraB.shape, 0, 1, 'float32', seed * 100 + k++)));
  return adapters;
}

function job(artifactsDir: string, method: EvaluationJob['method'], outDir: string): EvaluationJob {
  return { baseModelDir: baseDir, artifactsDir, method, itemsPath, seed: SEED, maxNewTokens: MAX_NEW_TOKENS, outDir };
}

let base: BaseCheckpoint;
let baseAnswers: string[];
let baseLosses: number[];

beforeAll(async () => {
  await initMlBackend();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'trellis-evaluation-job-'));
  baseDir = path.join(root, 'base');
  const tiny = await createTinyBaseModel({ seed: 3, steps: 0 });
  try {
    await writeBaseCheckpoint(baseDir, tiny);
  } finally {
    tiny.model.dispose();
  }
  await fs.mkdir(path.join(root, 'items', 'images'), { recursive: true });
  // Not the model's size and not square, so the trainer's resize is exercised; one PNG with alpha, one JPEG.
  await sharp({ create: { width: 40, height: 24, channels: 4, background: { r: 220, g: 40, b: 30, alpha: 1 } } })
    .composite([{ input: { create: { width: 12, height: 12, channels: 4, background: { r: 250, g: 250, b: 250, alpha: 1 } } }, left: 6, top: 5 }])
    .png()
    .toFile(path.join(root, 'items', 'red.png'));
  await sharp({ create: { width: 20, height: 36, channels: 3, background: { r: 20, g: 60, b: 200 } } })
    .jpeg()
    .toFile(path.join(root, 'items', 'images', 'blue.jpg'));
  itemsPath = path.join(root, 'items', 'items.json');
  await fs.writeFile(itemsPath, JSON.stringify(ITEMS));
  base = await readBaseCheckpoint(baseDir);
  for (const image of new Set(PAIRS.map((p) => p.image))) rgbOf.set(image, await trainerRgb(path.join(root, 'items', image), base.config.vision.imageSize));
  baseAnswers = directAnswers(base);
  baseLosses = directLosses(base);
});

afterAll(async () => {
  base?.model.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

describe('runEvaluationJob', () => {
  describe('lora', () => {
    let adapted: BaseCheckpoint;
    let artifactsDir: string;

    beforeAll(async () => {
      adapted = await readBaseCheckpoint(baseDir);
      artifactsDir = path.join(root, 'lora-artifacts');
      // Saved as the trainer saves a LoRA run's adapter (training-job.ts).
      nonzeroLora(adapted, 1).save(artifactsDir, { baseModelNameOrPath: 'trellis-base-model-base' });
    });

    afterAll(() => adapted.model.dispose());

    it('answers as the library generates with the adapter applied, and not as the base model does', async () => {
      const progress: { done: number; total: number }[] = [];
      const result = await runEvaluationJob(job(artifactsDir, 'lora', path.join(root, 'out-lora')), (p) => progress.push(p));
      const written = await readPredictions(result.predictionsPath);
      const expected = directAnswers(adapted);
      expect(written.map((p) => p.prediction)).toEqual(expected);
      expect(expected).not.toEqual(baseAnswers);
      expect(written.map((p) => [p.itemId, p.kind, p.prompt, p.references])).toEqual([
        ['item-1', 'caption', CAPTION_PROMPT, ['a round opacity in the left lobe']],
        ['item-2', 'vqa', 'Is there an opacity?', ['yes']],
        ['item-2', 'vqa', 'Which side?', ['left']],
        ['item-3', 'classification', LABEL_PROMPT, ['nodule']],
      ]);
      expect(result).toMatchObject({ itemCount: 3, predictionCount: 4, predictionsPath: path.join(root, 'out-lora', PREDICTIONS_FILE) });
      expect(progress[progress.length - 1]).toEqual({ done: 4, total: 4 });
    });

    it('gives each answer the teacher-forced NLL whose mean is the library loss of the adapted model', async () => {
      const result = await runEvaluationJob(job(artifactsDir, 'lora', path.join(root, 'out-lora-nll')), () => undefined);
      const written = await readPredictions(result.predictionsPath);
      const losses = directLosses(adapted);
      written.forEach((p, i) => {
        // answer tokens + EOS, as the trainer's labels count them
        expect(p.answerNll!.tokens).toBe(buildTrainingExample(adapted.tokenizer, PAIRS[i]).labels.filter((l) => l !== -100).length);
        expect(p.answerNll!.sumNll / p.answerNll!.tokens).toBeCloseTo(losses[i], 4);
        expect(Math.abs(p.answerNll!.sumNll / p.answerNll!.tokens - baseLosses[i])).toBeGreaterThan(1e-3);
      });
    });

    it('writes the same file for the same seed, scores what it wrote, and leaves no tensor behind', async () => {
      const before = tf.memory().numTensors;
      const a = await runEvaluationJob(job(artifactsDir, 'lora', path.join(root, 'out-a')), () => undefined);
      const b = await runEvaluationJob(job(artifactsDir, 'lora', path.join(root, 'out-b')), () => undefined);
      expect(tf.memory().numTensors).toBe(before);
      const fileA = await fs.readFile(a.predictionsPath, 'utf8');
      expect(fileA).toBe(await fs.readFile(b.predictionsPath, 'utf8'));
      expect(fileA.trim().split('\n')).toHaveLength(4);
      expect(a.metrics).toEqual(scorePredictions(await readPredictions(a.predictionsPath)));
      expect(a.metrics.bleu).not.toBeNull();
      expect(a.metrics.vqaAccuracy).not.toBeNull();
      expect(a.metrics.perplexity).toBeGreaterThan(1);
    });
  });

  it('loads a qlora adapter onto the base quantized as the run trained it', async () => {
    const adapted = await readBaseCheckpoint(baseDir);
    try {
      const artifactsDir = path.join(root, 'qlora-artifacts');
      const targets = [...adapted.model.linearLayers().keys()].filter((n) => n.startsWith('language_model.') && /\.(q_proj|v_proj|down_proj)$/.test(n));
      quantizeModel(adapted.model, targets, { doubleQuant: true });
      nonzeroLora(adapted, 2).save(artifactsDir);
      const result = await runEvaluationJob(job(artifactsDir, 'qlora', path.join(root, 'out-qlora')), () => undefined);
      const written = await readPredictions(result.predictionsPath);
      expect(written.map((p) => p.prediction)).toEqual(directAnswers(adapted));
      const losses = directLosses(adapted);
      written.forEach((p, i) => expect(p.answerNll!.sumNll / p.answerNll!.tokens).toBeCloseTo(losses[i], 4));
    } finally {
      adapted.model.dispose();
    }
  });

  it('takes the weights of a full or distill run from its artifacts', async () => {
    const trained = await readBaseCheckpoint(baseDir);
    try {
      // Stand-in for trained weights: the base with one projection changed, written as the trainer writes full weights.
      const name = 'language_model.lm_head';
      const weight = trained.model.namedWeights().get(`${name}.weight`)!;
      weight.assign(tf.tidy(() => tf.add(weight, tf.randomNormal(weight.shape, 0, 0.5, 'float32', 11))));
      const artifactsDir = path.join(root, 'full-artifacts');
      await writeBaseCheckpoint(artifactsDir, trained);
      for (const method of ['full', 'distill'] as const) {
        const result = await runEvaluationJob(job(artifactsDir, method, path.join(root, `out-${method}`)), () => undefined);
        const written = await readPredictions(result.predictionsPath);
        expect(written.map((p) => p.prediction)).toEqual(directAnswers(trained));
        const losses = directLosses(trained);
        written.forEach((p, i) => expect(p.answerNll!.sumNll / p.answerNll!.tokens).toBeCloseTo(losses[i], 4));
      }
    } finally {
      trained.model.dispose();
    }
  });

  it('refuses artifacts that are not of the method, and an items file that is not one', async () => {
    const before = tf.memory().numTensors;
    const fails = async (j: EvaluationJob, code: EvaluationScoringErrorCode, message: RegExp) => {
      const err = await runEvaluationJob(j, () => undefined).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EvaluationScoringException);
      expect((err as EvaluationScoringException).code).toBe(code);
      expect((err as Error).message).toMatch(message);
    };
    // a base checkpoint holds no adapter
    await fails(job(baseDir, 'lora', path.join(root, 'out-x')), EvaluationScoringErrorCode.ModelUnreadable, /adapter_config\.json does not exist/);
    const badItems = path.join(root, 'items', 'bad.json');
    await fs.writeFile(badItems, JSON.stringify([{ ...ITEMS[0], prompt: undefined }]));
    await fails({ ...job(baseDir, 'full', path.join(root, 'out-x')), itemsPath: badItems }, EvaluationScoringErrorCode.DataUnreadable, /needs the prompt/);
    await fs.writeFile(badItems, '[]');
    await fails({ ...job(baseDir, 'full', path.join(root, 'out-x')), itemsPath: badItems }, EvaluationScoringErrorCode.NothingToScore, /holds no item/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
