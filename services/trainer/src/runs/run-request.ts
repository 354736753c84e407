import { z } from 'zod';
import { Hyperparameters, MODEL_NAME_PATTERN, TRAINING_METHODS, TRAINING_PURPOSES, TrainingMethod, TrainingPurpose } from '@trellis/contracts';

/**
 * The body of POST /training/runs as people write it: short names, defaults for everything but
 * the base model, the method and the data. `parseRunRequest` lists every problem at once, each
 * naming its field; the lookups (does the set exist, does the target module) come after, in the
 * use case, and add their problems to the same list.
 */
const uuid = z.string().uuid('a UUID');

/** A seed as every generator of the trainer takes it (mulberry32 state): a non-negative 31-bit integer. */
export const SEED = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

const setRef = z.union([z.object({ setId: uuid }).strict(), z.object({ projectId: uuid, version: z.number().int().positive() }).strict()]);
export type SetReference = z.infer<typeof setRef>;

const RunRequestBody = z
  .object({
    baseModelId: uuid,
    method: z.enum(TRAINING_METHODS),
    teacherModelId: uuid.optional(),
    annotationSets: z.array(setRef).min(1, 'at least one annotation set').max(20),
    evaluation: z
      .union([
        z.object({ heldOutFraction: z.number().gt(0, 'above 0').lt(1, 'below 1') }).strict(),
        z.object({ annotationSets: z.array(setRef).min(1).max(20) }).strict(),
      ])
      .optional(),
    purpose: z.enum(TRAINING_PURPOSES).optional(),
    modelName: z.string().regex(MODEL_NAME_PATTERN, 'lowercase letters, digits, . _ - (at most 100, starting with a letter or digit)').optional(),
    hyperparameters: z
      .object({
        loraRank: z.number().int().min(1, 'at least 1').max(1024).optional(),
        loraAlpha: z.number().positive().max(100_000).optional(),
        loraDropout: z.number().min(0).lt(1).optional(),
        targetModules: z.array(z.string().min(1).max(200)).min(1).max(64).optional(),
        rslora: z.boolean().optional(),
        // No sensible upper bound: a run that diverges fails with its step and reason.
        learningRate: z.number().positive().optional(),
        warmupSteps: z.number().int().min(0).max(1_000_000).optional(),
        schedule: z.enum(['constant', 'cosine']).optional(),
        weightDecay: z.number().min(0).max(10).optional(),
        batchSize: z.number().int().min(1).max(4096).optional(),
        gradAccumulation: z.number().int().min(1).max(4096).optional(),
        maxGradNorm: z.number().positive().nullable().optional(),
        steps: z.number().int().min(1).max(10_000_000).optional(),
        epochs: z.number().int().min(1).max(10_000).optional(),
        seed: SEED.optional(),
        evalEvery: z.number().int().min(1).optional(),
        checkpointEvery: z.number().int().min(1).optional(),
        temperature: z.number().positive().max(100).optional(),
        distillAlpha: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface ParsedRunRequest {
  baseModelId: string;
  method: TrainingMethod;
  teacherModelId: string | null;
  annotationSets: SetReference[];
  evaluation: { kind: 'held-out'; fraction: number } | { kind: 'sets'; annotationSets: SetReference[] };
  purpose: TrainingPurpose;
  /** The registered model the run's version goes to; null: the registry names it after the base model and method. */
  modelName: string | null;
  hyperparameters: Hyperparameters;
}

export interface RequestProblem {
  field: string;
  message: string;
}

export const DEFAULT_TARGET_MODULES = ['q_proj', 'v_proj'];
export const DEFAULT_HELD_OUT_FRACTION = 0.2;
const DEFAULT_STEPS = 100;

/** Learning rates that train the tiny base model in a hundred steps without diverging. */
const DEFAULT_LEARNING_RATE: Record<TrainingMethod, number> = { lora: 1e-3, qlora: 1e-3, full: 3e-4, distill: 3e-4 };

export function parseRunRequest(body: unknown): { request: ParsedRunRequest | null; problems: RequestProblem[] } {
  const parsed = RunRequestBody.safeParse(body);
  if (!parsed.success) {
    return { request: null, problems: parsed.error.issues.map((i) => ({ field: ['body', ...i.path].join('.'), message: i.message })) };
  }
  const b = parsed.data;
  const h = b.hyperparameters ?? {};
  const problems: RequestProblem[] = [];
  const adapter = b.method === 'lora' || b.method === 'qlora';
  if (b.method === 'distill' && !b.teacherModelId) problems.push({ field: 'body.teacherModelId', message: 'distillation needs a teacher model' });
  if (b.method !== 'distill' && b.teacherModelId)
    problems.push({ field: 'body.teacherModelId', message: `only distillation takes a teacher, not ${b.method}` });
  if (!adapter) {
    for (const key of ['loraRank', 'loraAlpha', 'loraDropout', 'targetModules', 'rslora'] as const) {
      if (h[key] !== undefined) problems.push({ field: `body.hyperparameters.${key}`, message: `only LoRA and QLoRA runs take ${key}, not ${b.method}` });
    }
  }
  if (b.method !== 'distill') {
    for (const key of ['temperature', 'distillAlpha'] as const) {
      if (h[key] !== undefined) problems.push({ field: `body.hyperparameters.${key}`, message: `only distillation takes ${key}` });
    }
  }
  if (h.steps !== undefined && h.epochs !== undefined) problems.push({ field: 'body.hyperparameters.epochs', message: 'give steps or epochs, not both' });
  if (problems.length > 0) return { request: null, problems };
  const rank = h.loraRank ?? 8;
  return {
    problems,
    request: {
      baseModelId: b.baseModelId.toLowerCase(),
      method: b.method,
      teacherModelId: b.teacherModelId?.toLowerCase() ?? null,
      annotationSets: b.annotationSets,
      evaluation:
        b.evaluation && 'annotationSets' in b.evaluation
          ? { kind: 'sets', annotationSets: b.evaluation.annotationSets }
          : { kind: 'held-out', fraction: b.evaluation?.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION },
      purpose: b.purpose ?? 'model-training',
      modelName: b.modelName ?? null,
      hyperparameters: {
        lora: adapter
          ? {
              rank,
              alpha: h.loraAlpha ?? 2 * rank,
              dropout: h.loraDropout ?? 0.05,
              targetModules: h.targetModules ?? DEFAULT_TARGET_MODULES,
              rslora: h.rslora ?? false,
            }
          : null,
        learningRate: h.learningRate ?? DEFAULT_LEARNING_RATE[b.method],
        warmupSteps: h.warmupSteps ?? 0,
        schedule: h.schedule ?? 'cosine',
        weightDecay: h.weightDecay ?? 0,
        batchSize: h.batchSize ?? 8,
        gradAccumulation: h.gradAccumulation ?? 1,
        maxGradNorm: h.maxGradNorm === undefined ? 1 : h.maxGradNorm,
        steps: h.epochs !== undefined ? null : (h.steps ?? DEFAULT_STEPS),
        epochs: h.epochs ?? null,
        seed: h.seed ?? 0,
        evalEvery: h.evalEvery ?? 25,
        checkpointEvery: h.checkpointEvery ?? 50,
        distillation: b.method === 'distill' ? { temperature: h.temperature ?? 2, alpha: h.distillAlpha ?? 0.5 } : null,
      },
    },
  };
}

/**
 * The PEFT rule (`target_modules` as a list): an entry names a module when it equals the full
 * name or its last dotted parts. Every entry must name one, so a typo is refused at request
 * time instead of failing the run later.
 */
export function unmatchedTargetModules(linearModules: readonly string[], targets: readonly string[]): string[] {
  return targets.filter((t) => !linearModules.some((n) => n === t || n.endsWith(`.${t}`)));
}
