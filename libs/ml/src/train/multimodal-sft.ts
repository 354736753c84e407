import * as tf from '@tensorflow/tfjs-core';
import { generateSyntheticDataset, SyntheticItem } from '@trellis/synthetic';
import { DistillationOptions, distillationLoss } from '../distill/distillation.loss';
import { LoraAdapters } from '../lora/lora-adapters';
import { MultimodalModel } from '../model/multimodal-model';
import { buildTrainingExample, collateExamples, TrainingExample } from '../model/training-example';
import { ByteLevelBpeTokenizer } from '../tokenizer';
import { TrainTask } from './trainer';
import { TrainingErrorCode, TrainingException } from './training.exception';

/** One supervised pair about one image: the image's pixels and the tokenised prompt/answer. */
export interface SftItem {
  rgb: Uint8Array;
  size: number;
  example: TrainingExample;
}

export interface SftBatch {
  pixelValues: tf.Tensor4D;
  inputIds: tf.Tensor2D;
  labels: tf.Tensor2D;
  /** Teacher logits, computed outside any gradient tape (distillation only). */
  teacherLogits?: tf.Tensor3D;
}

export interface SyntheticSftData {
  tokenizer: ByteLevelBpeTokenizer;
  train: SftItem[];
  heldOut: SftItem[];
}

export interface SyntheticSftOptions {
  seed: number;
  subjects: number;
  itemsPerSubject: number;
  /** Subjects kept out of training (the held-out set); default a fifth. */
  heldOutSubjects?: number;
  vocabSize?: number;
  imageSize?: number;
  /** Also learn to caption ("Describe the image." -> caption); default true. */
  captions?: boolean;
}

/**
 * Supervised fine-tuning pairs from the synthetic data set: for each image its caption
 * ("Describe the image.") and its question/answer pairs, with a byte-level BPE tokenizer
 * trained on the texts. Held-out items come from subjects never seen in training.
 */
export function syntheticSftData(options: SyntheticSftOptions): SyntheticSftData {
  const size = options.imageSize ?? 32;
  const ds = generateSyntheticDataset({
    seed: options.seed,
    subjects: options.subjects,
    itemsPerSubject: options.itemsPerSubject,
    imageSize: size,
    imageFormat: 'raw',
  });
  const captions = options.captions ?? true;
  const pairs = (i: SyntheticItem) => [
    ...(captions ? [{ prompt: 'Describe the image.', answer: i.caption }] : []),
    ...i.qa.map((q) => ({ prompt: q.question, answer: q.answer })),
  ];
  const corpus = ds.items.flatMap((i) => pairs(i).flatMap((p) => [p.prompt, p.answer]));
  corpus.push('USER: ASSISTANT:');
  const tokenizer = ByteLevelBpeTokenizer.train(corpus, { vocabSize: options.vocabSize ?? 320 });
  const heldOutCount = options.heldOutSubjects ?? Math.max(1, Math.floor(options.subjects / 5));
  // slice(-0) would be every subject: no held-out subjects means an empty set.
  const heldOutRefs = new Set(heldOutCount > 0 ? ds.subjects.slice(-heldOutCount).map((s) => s.subjectRef) : []);
  const train: SftItem[] = [];
  const heldOut: SftItem[] = [];
  for (const item of ds.items) {
    for (const pair of pairs(item)) {
      const sft = { rgb: item.rgb, size, example: buildTrainingExample(tokenizer, pair) };
      (heldOutRefs.has(item.subjectRef) ? heldOut : train).push(sft);
    }
  }
  return { tokenizer, train, heldOut };
}

export function collateSft(items: SftItem[], padId: number): SftBatch {
  const size = items[0].size;
  const pixels = new Float32Array(items.length * size * size * 3);
  items.forEach((it, i) => {
    for (let k = 0; k < it.rgb.length; k++) pixels[i * it.rgb.length + k] = it.rgb[k] / 255;
  });
  const { inputIds, labels } = collateExamples(
    items.map((i) => i.example),
    padId,
  );
  return { pixelValues: tf.tensor4d(pixels, [items.length, size, size, 3]), inputIds, labels };
}

function countedTokens(b: SftBatch): number {
  return b.inputIds.size;
}

/** Full fine-tuning: every trainable weight of the model, by Hugging Face name. */
export function fullFineTuneTask(model: MultimodalModel): TrainTask<SftBatch> {
  model.setTrainable(true);
  const named = new Map([...model.namedWeights()].filter(([, v]) => v.trainable));
  return { variables: () => named, loss: (b) => model.loss(b), tokens: countedTokens };
}

/** LoRA / QLoRA: only the adapters train; dropout state is part of checkpoints. */
export function loraTask(model: MultimodalModel, adapters: LoraAdapters): TrainTask<SftBatch> {
  return {
    variables: () => adapters.namedWeights(),
    loss: (b) => model.loss(b),
    tokens: countedTokens,
    setTraining: (flag) => adapters.setTraining(flag),
    rngState: () => adapters.rngState(),
    setRngState: (s) => adapters.setRngState(s as Record<string, number>),
  };
}

/**
 * Distillation of a student from a frozen teacher. The teacher's logits are computed by
 * `withTeacher` while collating, outside the gradient tape, so no gradient can reach it.
 */
export function distillationTask(student: MultimodalModel, options: DistillationOptions = {}): TrainTask<SftBatch> {
  student.setTrainable(true);
  const named = new Map([...student.namedWeights()].filter(([, v]) => v.trainable));
  return {
    variables: () => named,
    loss: (b) =>
      tf.tidy(() => {
        if (!b.teacherLogits) {
          const message = 'distillationTask: the batch has no teacherLogits; collate with withTeacher()';
          throw new TrainingException(TrainingErrorCode.InvalidInput, message, ['teacherLogits']);
        }
        return distillationLoss(student.forward(b), b.teacherLogits, student.expandLabels(b.inputIds, b.labels), options);
      }),
    tokens: countedTokens,
  };
}

export function withTeacher(teacher: MultimodalModel, collate: (items: SftItem[]) => SftBatch): (items: SftItem[]) => SftBatch {
  return (items) => {
    const batch = collate(items);
    return { ...batch, teacherLogits: tf.tidy(() => teacher.forward(batch)) };
  };
}
