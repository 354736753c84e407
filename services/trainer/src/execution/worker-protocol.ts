import type { Hyperparameters, TrainingFailureCode, TrainingMethod } from '@trellis/contracts';

/**
 * What the trainer process and its worker (a child process) say to each other. The worker only
 * computes: it reads what the job names from local files and writes checkpoints and artifacts
 * to local directories; the trainer process does all storage and event I/O, so a worker can be
 * killed at any moment without leaving anything half-written in the platform.
 */
export interface TrainingJob {
  runId: string;
  method: TrainingMethod;
  hyperparameters: Hyperparameters;
  totalSteps: number;
  /** Directories of base checkpoints (config.json, tokenizer.json, model.safetensors). */
  baseModelDir: string;
  teacherModelDir: string | null;
  /** The snapshot manifest (JSON), the items' supervised pairs by `<setId>/<itemId>` (JSON) and a directory of their images by SHA-256. */
  manifestPath: string;
  pairsPath: string;
  imagesDir: string;
  /** A checkpoint to resume from (trainer_state.json, checkpoint.safetensors, loss-history.json). */
  resumeDir: string | null;
  /** Backend of the run's first attempt: a resumed run must compute on the same one to end bit-identical. */
  backend: string | null;
  /** Where the worker writes checkpoints (a new directory per checkpoint) and, at the end, the artifacts. */
  outDir: string;
}

export interface ProgressReport {
  step: number;
  loss: number;
  learningRate: number;
  tokensPerSecond: number;
  tokensSeen: number;
  heldOutLoss: number | null;
}

export interface CompletionReport {
  /** Files under `dir` to store as the run's artifacts. */
  dir: string;
  files: string[];
  steps: number;
  finalTrainLoss: number;
  finalHeldOutLoss: number | null;
  baseHeldOutLoss: number | null;
  tokensSeen: number;
  wallSeconds: number;
  /** Tensors alive when the worker started and after it released the run's: equal when nothing leaked. */
  tensorsBefore: number;
  tensorsAfter: number;
}

/** Make a preset base model (pre-trained on the synthetic data set), or inspect a checkpoint brought by users. */
export type BaseModelJob = { kind: 'create'; preset: 'tiny'; seed: number; steps: number | null; outDir: string } | { kind: 'inspect'; dir: string };

export interface BaseModelReady {
  /** The checkpoint directory and the files in it to store. */
  dir: string;
  files: string[];
  architecture: { modelType: string; parameters: number; vocabSize: number; hiddenSize: number; layers: number; imageSize: number; linearModules: string[] };
  pretraining: { steps: number; seed: number; initialHeldOutLoss: number; finalHeldOutLoss: number; backend: string } | null;
}

export type WorkerMessage =
  /** Loaded, with the default ML backend initialised: a job would start at once (sent once, before any job). */
  | { type: 'ready' }
  | { type: 'started'; backend: string; device: string; notes: string[] }
  | { type: 'progress'; progress: ProgressReport }
  | { type: 'checkpoint'; step: number; dir: string; files: string[] }
  | { type: 'completed'; report: CompletionReport }
  | { type: 'failed'; code: TrainingFailureCode; reason: string; step: number | null }
  | { type: 'cancelled'; step: number }
  | { type: 'base-model-ready'; ready: BaseModelReady };

export type TrainerMessage = { type: 'job'; job: TrainingJob } | { type: 'base-model'; job: BaseModelJob } | { type: 'cancel' };

/** Files a checkpoint directory holds besides the library's own two. */
export const LOSS_HISTORY_FILE = 'loss-history.json';
