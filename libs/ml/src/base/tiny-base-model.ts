import { type MultimodalConfig, tinyMultimodalConfig } from '../model/model-config';
import { MultimodalModel } from '../model/multimodal-model';
import type { ByteLevelBpeTokenizer } from '../tokenizer/byte-level-bpe.tokenizer';
import { collateSft, fullFineTuneTask, type SftItem, syntheticSftData } from '../train/multimodal-sft';
import { evaluateLoss, Trainer, type TrainingProgress } from '../train/trainer';
import { TrainingErrorCode, TrainingException } from '../train/training.exception';

/**
 * How the tiny preset is pre-trained. The data are syntheticSftData's: captions and question/
 * answer pairs, with the tokenizer trained on those texts and the LLaVA template. These are the
 * texts the platform's synthetic ingestion publishes as annotation sets, so the runs that later
 * fine-tune this model find their words in its vocabulary.
 */
export const TINY_BASE_PRETRAINING = {
  subjects: 10,
  itemsPerSubject: 3,
  /** Of the subjects; never trained on, so the held-out loss measures generalisation. */
  heldOutSubjects: 2,
  imageSize: 32,
  batchSize: 8,
  lr: 5e-3,
  warmupSteps: 3,
  /** About 2.5 s on native TensorFlow with 2 cores; held-out loss to 0.35-0.45 of the start (seeds 1-5, 11, 42, 1234). */
  steps: 30,
} as const;

export interface TinyBaseModelOptions {
  /** Seeds the synthetic data, the random initialisation and the data order. */
  seed: number;
  /** Optimizer steps of pre-training; 0 keeps the random initialisation. Default TINY_BASE_PRETRAINING.steps. */
  steps?: number;
  onProgress?: (p: TrainingProgress) => void;
}

export interface TinyBaseModel {
  model: MultimodalModel;
  config: MultimodalConfig;
  tokenizer: ByteLevelBpeTokenizer;
  steps: number;
  /** Mean causal-LM loss on the held-out subjects' pairs before and after pre-training. */
  initialHeldOutLoss: number;
  finalHeldOutLoss: number;
}

/**
 * The `--preset tiny` base model: tinyMultimodalConfig sized to the synthetic tokenizer,
 * initialised from the seed and fully trained for `steps` on the synthetic data set. The same
 * seed gives the same weights, bit for bit, on the same backend. The caller owns the model.
 */
export async function createTinyBaseModel(options: TinyBaseModelOptions): Promise<TinyBaseModel> {
  const p = TINY_BASE_PRETRAINING;
  const steps = options.steps ?? p.steps;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new TrainingException(TrainingErrorCode.InvalidOptions, `createTinyBaseModel: steps must be a non-negative integer, got ${steps}`, ['steps']);
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new TrainingException(TrainingErrorCode.InvalidOptions, `createTinyBaseModel: seed must be an integer, got ${options.seed}`, ['seed']);
  }
  const data = syntheticSftData({
    seed: options.seed,
    subjects: p.subjects,
    itemsPerSubject: p.itemsPerSubject,
    heldOutSubjects: p.heldOutSubjects,
    imageSize: p.imageSize,
  });
  const config = tinyMultimodalConfig({ tokenizer: data.tokenizer, vision: { imageSize: p.imageSize } });
  const model = new MultimodalModel(config, options.seed);
  const collate = (items: SftItem[]) => collateSft(items, data.tokenizer.padId);
  let trainer: Trainer<SftItem, ReturnType<typeof collate>> | null = null;
  try {
    const task = fullFineTuneTask(model);
    const heldOutLoss = () => evaluateLoss(task, data.heldOut, collate, data.heldOut.length);
    const initialHeldOutLoss = heldOutLoss();
    let finalHeldOutLoss = initialHeldOutLoss;
    if (steps > 0) {
      trainer = new Trainer(task, data.train, collate, {
        batchSize: p.batchSize,
        seed: options.seed,
        // No weight decay: a few dozen steps from a random start, where decay would only slow it.
        optimizer: { lr: p.lr, weightDecay: 0 },
        schedule: { warmupSteps: Math.min(p.warmupSteps, steps - 1), totalSteps: steps },
        onProgress: options.onProgress,
      });
      for (let i = 0; i < steps; i++) {
        trainer.trainStep();
        // Lets the host's event loop turn between steps (a worker's IPC, heartbeats).
        await new Promise((resolve) => setImmediate(resolve));
      }
      finalHeldOutLoss = heldOutLoss();
    }
    return { model, config, tokenizer: data.tokenizer, steps, initialHeldOutLoss, finalHeldOutLoss };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    trainer?.dispose();
  }
}
