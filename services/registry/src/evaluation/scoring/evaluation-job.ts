import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AnswerV1, type Metrics, type TrainingMethod } from '@trellis/contracts';
import { initMlBackend, type MlBackendName } from '@trellis/ml';
import { z } from 'zod';
import { type EvaluationModel, generateAnswers, type GenerationItem, loadEvaluationModel, loadImageRgb } from './evaluation-model';
import { EvaluationScoringErrorCode, EvaluationScoringException } from './evaluation-scoring.exception';
import { scorePredictions, type ScoredPrediction } from './evaluation-scorer';

export const PREDICTIONS_FILE = 'predictions.jsonl';

/**
 * One line of the items file: an annotation-set item and its adjudicated answer. `prompt` is the
 * prompt the trainer trains a caption or a class label under (its supervisedPairs: 'Describe the
 * image.', 'What is shown in the image?'), given by the caller until that mapping lives in a
 * library both services read; a vqa item has none, its questions are its prompts. `imagePath`
 * is relative to the items file unless absolute.
 */
export const EvaluationItemV1 = z
  .object({
    itemId: z.string().min(1),
    subjectId: z.string().min(1),
    imagePath: z.string().min(1),
    answer: AnswerV1,
    prompt: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((item, ctx) => {
    if (item.answer.kind === 'vqa' && item.prompt !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['prompt'], message: 'a vqa item takes its questions as prompts; give no prompt' });
    }
    if (item.answer.kind !== 'vqa' && item.prompt === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['prompt'], message: `a ${item.answer.kind} item needs the prompt its answers were trained under` });
    }
  });
export type EvaluationItem = z.infer<typeof EvaluationItemV1>;

export interface EvaluationJob {
  baseModelDir: string;
  artifactsDir: string;
  method: TrainingMethod;
  itemsPath: string;
  seed: number;
  maxNewTokens: number;
  outDir: string;
  /** Initialise this backend first; by default the job runs on the one the host process chose. */
  backend?: MlBackendName;
}

export interface EvaluationJobResult {
  metrics: Metrics;
  /** Items of the items file (images). */
  itemCount: number;
  /** Lines of predictions.jsonl: one per caption, label and question. */
  predictionCount: number;
  predictionsPath: string;
}

function dataUnreadable(message: string, fields?: string[]): EvaluationScoringException {
  return new EvaluationScoringException(EvaluationScoringErrorCode.DataUnreadable, message, fields);
}

async function readItems(itemsPath: string): Promise<EvaluationItem[]> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(itemsPath, 'utf8'));
  } catch (err) {
    throw dataUnreadable(`items file ${itemsPath} cannot be read as JSON: ${(err as Error).message}`, ['itemsPath']);
  }
  const parsed = z.array(EvaluationItemV1).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw dataUnreadable(`items file ${itemsPath} is invalid:\n  - ${issues.join('\n  - ')}`, [...new Set(parsed.error.issues.map((i) => i.path.join('.')))]);
  }
  return parsed.data;
}

/** The questions an item puts to the model, each with its one reference answer. */
function questionsOf(item: EvaluationItem): Omit<GenerationItem, 'rgb'>[] {
  const a = item.answer;
  switch (a.kind) {
    case 'caption':
      return [{ itemId: item.itemId, kind: 'caption', prompt: item.prompt!, references: [a.caption] }];
    case 'classification':
      return [{ itemId: item.itemId, kind: 'classification', prompt: item.prompt!, references: [a.label] }];
    case 'vqa':
      return a.pairs.map((p) => ({ itemId: item.itemId, kind: 'vqa' as const, prompt: p.question, references: [p.answer] }));
  }
}

/**
 * One evaluation run: load the model version, answer every caption, label and question of the
 * items file greedily, write outDir/predictions.jsonl (one JSON object per answer, with the
 * teacher-forced NLL of its reference, so the metrics can be recomputed from the file) and
 * score it. The same inputs and seed give the same file on the same backend. Every tensor it
 * creates is disposed, on failure too.
 */
export async function runEvaluationJob(job: EvaluationJob, report: (progress: { done: number; total: number }) => void): Promise<EvaluationJobResult> {
  if (job.backend) await initMlBackend({ prefer: [job.backend] });
  const items = await readItems(job.itemsPath);
  if (items.length === 0)
    throw new EvaluationScoringException(EvaluationScoringErrorCode.NothingToScore, `items file ${job.itemsPath} holds no item`, ['itemsPath']);
  let model: EvaluationModel | null = null;
  try {
    model = await loadEvaluationModel(job.baseModelDir, job.artifactsDir, job.method);
    const size = model.config.vision.imageSize;
    const images = new Map<string, Uint8Array>();
    const questions: GenerationItem[] = [];
    for (const item of items) {
      const file = path.resolve(path.dirname(job.itemsPath), item.imagePath);
      let rgb = images.get(file);
      if (!rgb) {
        const bytes = await fs.readFile(file).catch((err: Error) => {
          throw dataUnreadable(`image of item ${item.itemId} cannot be read: ${err.message}`, ['imagePath']);
        });
        rgb = await loadImageRgb(bytes, size, `image of item ${item.itemId} (${item.imagePath})`);
        images.set(file, rgb);
      }
      for (const q of questionsOf(item)) questions.push({ ...q, rgb });
    }
    report({ done: 0, total: questions.length });
    const predictions = generateAnswers(model, questions, {
      seed: job.seed,
      maxNewTokens: job.maxNewTokens,
      onAnswer: (done, total) => report({ done, total }),
    });
    const metrics = scorePredictions(predictions);
    await fs.mkdir(job.outDir, { recursive: true });
    const predictionsPath = path.join(job.outDir, PREDICTIONS_FILE);
    const line = (p: ScoredPrediction) =>
      JSON.stringify({ itemId: p.itemId, kind: p.kind, prompt: p.prompt, references: p.references, prediction: p.prediction, answerNll: p.answerNll });
    // Written whole, then renamed: a reader never sees half a file.
    await fs.writeFile(`${predictionsPath}.tmp-${process.pid}`, predictions.map(line).join('\n') + '\n');
    await fs.rename(`${predictionsPath}.tmp-${process.pid}`, predictionsPath);
    return { metrics, itemCount: items.length, predictionCount: predictions.length, predictionsPath };
  } finally {
    model?.dispose();
  }
}

/** Reads predictions.jsonl back, as scorePredictions takes it. */
export async function readPredictions(predictionsPath: string): Promise<ScoredPrediction[]> {
  const text = await fs.readFile(predictionsPath, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ScoredPrediction);
}
