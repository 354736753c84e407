import { TrainingErrorCode, TrainingException } from './training.exception';

export interface CosineScheduleOptions {
  warmupSteps: number;
  totalSteps: number;
  /** transformers' num_cycles; 0.5 is one half cosine from the peak to zero. */
  numCycles?: number;
}

/**
 * The learning-rate factor of transformers' get_cosine_schedule_with_warmup for the optimizer
 * step with 0-based index `step`: linear from 0 over the warmup, then a half cosine to 0 at
 * totalSteps (and, like transformers, back up past it).
 */
export function cosineWithWarmup(step: number, options: CosineScheduleOptions): number {
  const { warmupSteps, totalSteps } = options;
  const numCycles = options.numCycles ?? 0.5;
  const invalid = (message: string, field: string) =>
    new TrainingException(TrainingErrorCode.InvalidOptions, `cosine schedule: ${message}`, [`schedule.${field}`]);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw invalid(`warmupSteps must be a non-negative integer, got ${warmupSteps}`, 'warmupSteps');
  if (!Number.isInteger(totalSteps) || totalSteps <= 0) throw invalid(`totalSteps must be a positive integer, got ${totalSteps}`, 'totalSteps');
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
}
