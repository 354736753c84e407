import * as tf from '@tensorflow/tfjs-core';
import { IGNORE_INDEX } from './causal-lm-loss';
import { ModelErrorCode, ModelException } from './model.exception';
import type { TokenizerLike } from './tokenizer-like';

export interface TrainingExample {
  inputIds: number[];
  /** -100 on prompt tokens; the answer tokens (and EOS) count. */
  labels: number[];
  promptLength: number;
}

export interface TrainingExampleOptions {
  /** Put the image placeholder before the prompt (LLaVA). Default true. */
  image?: boolean;
  /** Prompt template; `{prompt}` is replaced. Default the LLaVA-1.5 one: "USER: {prompt} ASSISTANT:". */
  template?: string;
  /** Truncate the answer so the example fits; the EOS is kept. */
  maxLength?: number;
  addBos?: boolean;
  addEos?: boolean;
}

export const LLAVA_TEMPLATE = 'USER: {prompt} ASSISTANT:';

/**
 * Tokenises a prompt/answer pair for supervised fine-tuning. The two parts are encoded
 * separately, so the label boundary falls exactly between them, and only the answer (and
 * the EOS that ends it) is learned.
 */
export function buildTrainingExample(
  tokenizer: TokenizerLike,
  pair: { prompt: string; answer: string },
  options: TrainingExampleOptions = {},
): TrainingExample {
  const image = options.image ?? true;
  const template = options.template ?? LLAVA_TEMPLATE;
  if (!template.includes('{prompt}')) {
    const message = `buildTrainingExample: template must contain {prompt}, got ${JSON.stringify(template)}`;
    throw new ModelException(ModelErrorCode.InvalidInput, message, ['template']);
  }
  const prompt = image && !pair.prompt.includes('<image>') ? `<image>\n${pair.prompt}` : pair.prompt;
  const promptIds = tokenizer.encode(template.replace('{prompt}', prompt), { addBos: options.addBos ?? true });
  if (image && promptIds.filter((id) => id === tokenizer.imageId).length !== 1) {
    throw new ModelException(
      ModelErrorCode.InvalidInput,
      `buildTrainingExample: the prompt must encode to exactly one image token (id ${tokenizer.imageId}); got ${promptIds.filter((id) => id === tokenizer.imageId).length}`,
      ['prompt'],
    );
  }
  let answerIds = tokenizer.encode(` ${pair.answer}`);
  const eos = (options.addEos ?? true) ? [tokenizer.eosId] : [];
  if (options.maxLength !== undefined) {
    const room = options.maxLength - promptIds.length - eos.length;
    if (room < 1) {
      throw new ModelException(
        ModelErrorCode.InvalidInput,
        `buildTrainingExample: maxLength ${options.maxLength} leaves no room for the answer after a ${promptIds.length}-token prompt`,
        ['maxLength'],
      );
    }
    answerIds = answerIds.slice(0, room);
  }
  const target = [...answerIds, ...eos];
  return {
    inputIds: [...promptIds, ...target],
    labels: [...new Array(promptIds.length).fill(IGNORE_INDEX), ...target],
    promptLength: promptIds.length,
  };
}

/**
 * Right-pads examples into a batch: inputIds padded with padId, labels with -100. Right
 * padding needs no attention mask in a causal model: real tokens never attend to later pads.
 */
export function collateExamples(examples: TrainingExample[], padId: number): { inputIds: tf.Tensor2D; labels: tf.Tensor2D } {
  if (examples.length === 0) throw new ModelException(ModelErrorCode.InvalidInput, 'collateExamples: no examples', ['examples']);
  const length = Math.max(...examples.map((e) => e.inputIds.length));
  const ids = new Int32Array(examples.length * length).fill(padId);
  const labels = new Int32Array(examples.length * length).fill(IGNORE_INDEX);
  examples.forEach((e, i) => {
    ids.set(e.inputIds, i * length);
    labels.set(e.labels, i * length);
  });
  return { inputIds: tf.tensor2d(ids, [examples.length, length], 'int32'), labels: tf.tensor2d(labels, [examples.length, length], 'int32') };
}
