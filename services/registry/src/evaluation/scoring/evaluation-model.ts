import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingMethod } from '@trellis/contracts';
import {
  ADAPTER_CONFIG_FILE,
  type BaseCheckpoint,
  buildTrainingExample,
  CONFIG_FILE,
  hfConfigFromMultimodal,
  type LoraAdapters,
  loadLora,
  multimodalFromHfConfig,
  parsePeftLoraConfig,
  quantizeModel,
  readBaseCheckpoint,
  tokenNllFromLogits,
} from '@trellis/ml';
import sharp from 'sharp';
import { EvaluationScoringErrorCode, EvaluationScoringException } from './evaluation-scoring.exception';
import type { AnswerNll, PredictionKind, ScoredPrediction } from './evaluation-scorer';

/** A model version ready to answer: the base checkpoint with the run's adapter applied, or the run's own weights. */
export interface EvaluationModel extends BaseCheckpoint {
  method: TrainingMethod;
  /** The applied LoRA adapters (lora, qlora), null for full weights (full, distill). */
  adapters: LoraAdapters | null;
  dispose(): void;
}

function unreadable(message: string, field?: string): EvaluationScoringException {
  return new EvaluationScoringException(EvaluationScoringErrorCode.ModelUnreadable, message, field ? [field] : undefined);
}

const reason = (err: unknown) => `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`;

/** The configuration a checkpoint directory's config.json describes, compared as the HF config it writes. */
function configOf(dir: string): string {
  const file = path.join(dir, CONFIG_FILE);
  return JSON.stringify(hfConfigFromMultimodal(multimodalFromHfConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file)));
}

/**
 * Loads a model version as the trainer left it (services/trainer training-job.ts):
 * - lora: the base checkpoint plus the PEFT adapter in artifactsDir (adapter_config.json +
 *   adapter_model.safetensors);
 * - qlora: the same, on a base whose adapted layers are NF4-quantized with double quantization
 *   first, as the run trained on (its adapter_config.json names the layers by full name);
 * - full, distill: artifactsDir is a whole base checkpoint (the trained student for distill),
 *   which must have the base's configuration.
 * Adapters stay unmerged: a merge into NF4 weights would requantize them.
 */
export async function loadEvaluationModel(baseModelDir: string, artifactsDir: string, method: TrainingMethod): Promise<EvaluationModel> {
  let checkpoint: BaseCheckpoint | null = null;
  try {
    if (method === 'full' || method === 'distill') {
      if (configOf(artifactsDir) !== configOf(baseModelDir)) {
        throw unreadable(`${artifactsDir}/${CONFIG_FILE} describes another model than the base checkpoint ${baseModelDir}`, CONFIG_FILE);
      }
      checkpoint = await readBaseCheckpoint(artifactsDir);
      return { ...checkpoint, method, adapters: null, dispose: checkpoint.model.dispose.bind(checkpoint.model) };
    }
    checkpoint = await readBaseCheckpoint(baseModelDir);
    if (method === 'qlora') {
      const config = parsePeftLoraConfig(JSON.parse(fs.readFileSync(path.join(artifactsDir, ADAPTER_CONFIG_FILE), 'utf8')));
      // The trainer's quantization options; a run's artifacts do not record them (training_config.json has the LoRA hyperparameters only).
      quantizeModel(checkpoint.model, config.targetModules, { doubleQuant: true });
    }
    const adapters = loadLora(checkpoint.model, artifactsDir);
    adapters.setTraining(false);
    return { ...checkpoint, method, adapters, dispose: checkpoint.model.dispose.bind(checkpoint.model) };
  } catch (err) {
    checkpoint?.model.dispose();
    if (err instanceof EvaluationScoringException) throw err;
    throw unreadable(`cannot load the ${method} model version from ${baseModelDir} and ${artifactsDir}: ${reason(err)}`);
  }
}

/**
 * RGB bytes [size, size, 3] of a PNG or JPEG, resized exactly as the trainer feeds images to the
 * model (sharp, alpha removed, stretched to the square), so the model sees what it trained on.
 */
export async function loadImageRgb(bytes: Buffer | Uint8Array, size: number, source = 'image'): Promise<Uint8Array> {
  let rgb: Buffer;
  try {
    rgb = await sharp(bytes).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    throw new EvaluationScoringException(EvaluationScoringErrorCode.DataUnreadable, `${source} is not a readable image: ${reason(err)}`, ['imagePath']);
  }
  if (rgb.byteLength !== size * size * 3) {
    const message = `${source} decodes to ${rgb.byteLength} bytes, not ${size}x${size} RGB; only RGB(A) images can be scored`;
    throw new EvaluationScoringException(EvaluationScoringErrorCode.DataUnreadable, message, ['imagePath']);
  }
  return new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength);
}

/** One question to put to the model about one image. `prompt` is the one the trainer trains this kind of answer under (its supervisedPairs). */
export interface GenerationItem {
  itemId: string;
  kind: PredictionKind;
  prompt: string;
  references: string[];
  /** [size, size, 3] RGB bytes at the model's image size (loadImageRgb). */
  rgb: Uint8Array;
}

export interface GenerateAnswersOptions {
  /** Seeds the decoder's RNG; greedy decoding draws nothing from it, so it is there to make the run's inputs complete. */
  seed: number;
  maxNewTokens: number;
  onAnswer?: (done: number, total: number) => void;
}

/** The image as the trainer batches it (collateSft): [1, size, size, 3], 0..1. */
function pixelValues(rgb: Uint8Array, size: number): tf.Tensor4D {
  const pixels = new Float32Array(rgb.length);
  for (let k = 0; k < rgb.length; k++) pixels[k] = rgb[k] / 255;
  return tf.tensor4d(pixels, [1, size, size, 3]);
}

/**
 * Teacher-forced NLL of the answer tokens (and the EOS) of one prompt/answer pair, tokenized as
 * the trainer tokenizes it. Only the answer rows of the logits leave the backend.
 */
function answerNll(m: EvaluationModel, pixels: tf.Tensor4D, prompt: string, answer: string): AnswerNll {
  const example = buildTrainingExample(m.tokenizer, { prompt, answer });
  const answerIds = example.inputIds.slice(example.promptLength);
  const vocab = m.config.text.vocabSize;
  const rows = tf.tidy(() => {
    const inputIds = tf.tensor2d([example.inputIds], [1, example.inputIds.length], 'int32');
    const logits = m.model.forward({ pixelValues: pixels, inputIds });
    const t = logits.shape[1];
    // The logits at position p predict the token at p + 1: the last answer token is predicted
    // by the second-to-last position, and the last position predicts nothing.
    return tf.slice(logits, [0, t - 1 - answerIds.length, 0], [1, answerIds.length, vocab]);
  });
  const values = rows.dataSync();
  rows.dispose();
  const { nll } = tokenNllFromLogits(values, vocab, answerIds);
  return { sumNll: nll.reduce((s, x) => s + x, 0), tokens: answerIds.length };
}

/**
 * Greedy answers of the model to each item, under the LLaVA template the trainer trains with,
 * and the teacher-forced NLL of each item's references (summed over them) for perplexity.
 * The answer is decoded without its EOS and without the one space the trainer puts before it.
 */
export function generateAnswers(m: EvaluationModel, items: readonly GenerationItem[], options: GenerateAnswersOptions): ScoredPrediction[] {
  const size = m.config.vision.imageSize;
  const eos = m.tokenizer.eosId;
  const out: ScoredPrediction[] = [];
  for (const item of items) {
    if (item.rgb.length !== size * size * 3) {
      throw new EvaluationScoringException(
        EvaluationScoringErrorCode.InvalidInput,
        `item ${item.itemId}: ${item.rgb.length} image bytes, not ${size}x${size} RGB`,
        ['rgb'],
      );
    }
    const pixels = pixelValues(item.rgb, size);
    try {
      const example = buildTrainingExample(m.tokenizer, { prompt: item.prompt, answer: item.references[0] ?? '' });
      const tokens = m.model.generate(
        { pixelValues: pixels, inputIds: example.inputIds.slice(0, example.promptLength) },
        { maxNewTokens: options.maxNewTokens, eosId: eos, strategy: 'greedy', seed: options.seed },
      );
      const text = m.tokenizer.decode(tokens[tokens.length - 1] === eos ? tokens.slice(0, -1) : tokens, { skipSpecial: true });
      const nlls = item.references.map((r) => answerNll(m, pixels, item.prompt, r));
      out.push({
        itemId: item.itemId,
        kind: item.kind,
        prompt: item.prompt,
        references: item.references,
        prediction: text.startsWith(' ') ? text.slice(1) : text,
        answerNll: { sumNll: nlls.reduce((s, n) => s + n.sumNll, 0), tokens: nlls.reduce((s, n) => s + n.tokens, 0) },
      });
    } finally {
      pixels.dispose();
    }
    options.onAnswer?.(out.length, items.length);
  }
  return out;
}
