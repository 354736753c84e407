import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { initMlBackend, ML_BACKEND_NAMES, MlBackendName, MlBackendReport } from './ml-backend';
import { MlBackendErrorCode, MlBackendException } from './ml-backend.exception';

/**
 * A few training steps of the model at hand, built afresh on whichever backend is current
 * (variables live on the backend they were made on).
 */
export interface TrainingProbe {
  /** Identifies the workload: the model's shape, batch and mode. Choices are cached under it. */
  shapeKey: string;
  /** Builds the model and a batch on the current backend; `step` runs one optimizer step. */
  build(): { step(): void; dispose(): void };
}

export interface BackendChoice {
  report: MlBackendReport;
  /** Milliseconds per step measured on each backend that could be set up (from the cache when `cached`). */
  msPerStep: Partial<Record<MlBackendName, number>>;
  cached: boolean;
  /** One line: which backend, and why. */
  reason: string;
}

export interface BackendChoiceOptions {
  /** Backends to measure; default every one initMlBackend knows, in its order. */
  candidates?: MlBackendName[];
  /** Timed steps per backend, after one untimed warm-up step; default 3. */
  steps?: number;
  /** A JSON file that keeps choices across processes; default none (kept in this process only). */
  cacheFile?: string;
  /** How one backend is timed; tests replace it. Default: build, warm up, time `steps` steps. */
  timeSteps?: (probe: TrainingProbe, steps: number) => number;
}

type CacheEntry = { backend: MlBackendName; msPerStep: Partial<Record<MlBackendName, number>> };

const memory = new Map<string, CacheEntry>();

function defaultTimeSteps(probe: TrainingProbe, steps: number): number {
  const run = probe.build();
  try {
    run.step();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) run.step();
    return Number(process.hrtime.bigint() - t0) / 1e6 / steps;
  } finally {
    run.dispose();
  }
}

function readCache(file: string | undefined): Record<string, CacheEntry> {
  if (!file || !existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, CacheEntry>) : {};
  } catch {
    // A damaged cache only costs a measurement.
    return {};
  }
}

function writeCache(file: string, key: string, entry: CacheEntry): void {
  const all = { ...readCache(file), [key]: entry };
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename, so that a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2));
  renameSync(tmp, file);
}

const describe = (ms: Partial<Record<MlBackendName, number>>) =>
  Object.entries(ms)
    .sort(([, a], [, b]) => a - b)
    .map(([name, t]) => `${name} ${t.toFixed(1)} ms`)
    .join(', ');

/**
 * Picks the backend that trains this workload fastest here: times a few steps of `probe` on
 * each candidate that can be set up, and keeps the fastest. At these sizes per-op overhead, not
 * matrix multiplication, decides (wasm beat cpu-blas 5× on the tiny model), so a fixed order
 * is wrong for some shapes: the measurement is the rule. The choice is cached per shapeKey (in
 * the process, and in `cacheFile` when given); a cached backend that can no longer be set up is
 * measured again. TRELLIS_ML_BACKEND still forces one backend, unmeasured.
 */
export async function chooseBackendForTraining(probe: TrainingProbe, options: BackendChoiceOptions = {}): Promise<BackendChoice> {
  const steps = options.steps ?? 3;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new MlBackendException(MlBackendErrorCode.InvalidOptions, 'chooseBackendForTraining: steps must be a positive integer', ['steps']);
  }
  if (process.env.TRELLIS_ML_BACKEND) {
    const report = await initMlBackend();
    return { report, msPerStep: {}, cached: false, reason: `${report.name}: forced by TRELLIS_ML_BACKEND (not measured)` };
  }
  const cached = memory.get(probe.shapeKey) ?? readCache(options.cacheFile)[probe.shapeKey];
  if (cached && ML_BACKEND_NAMES.includes(cached.backend)) {
    const report = await initMlBackend({ prefer: [cached.backend] }).catch(() => null);
    if (report) {
      memory.set(probe.shapeKey, cached);
      return {
        report,
        msPerStep: cached.msPerStep,
        cached: true,
        reason: `${cached.backend}: fastest for ${probe.shapeKey} when measured (${describe(cached.msPerStep)}; cached)`,
      };
    }
  }
  const timeSteps = options.timeSteps ?? defaultTimeSteps;
  const msPerStep: Partial<Record<MlBackendName, number>> = {};
  const skipped: string[] = [];
  for (const name of options.candidates ?? ML_BACKEND_NAMES) {
    const report = await initMlBackend({ prefer: [name] }).catch((err: Error) => {
      skipped.push(`${name} unavailable (${err.message.split('\n').pop()})`);
      return null;
    });
    if (report) msPerStep[name] = timeSteps(probe, steps);
  }
  const ranked = (Object.entries(msPerStep) as [MlBackendName, number][]).sort(([, a], [, b]) => a - b);
  if (ranked.length === 0) {
    throw new MlBackendException(MlBackendErrorCode.Unavailable, `no candidate backend could be set up: ${skipped.join('; ')}`);
  }
  const [best] = ranked[0];
  const report = await initMlBackend({ prefer: [best] });
  const entry = { backend: best, msPerStep };
  memory.set(probe.shapeKey, entry);
  if (options.cacheFile) writeCache(options.cacheFile, probe.shapeKey, entry);
  const reason = `${best}: fastest for ${probe.shapeKey} over ${steps} measured step${steps === 1 ? '' : 's'} (${describe(msPerStep)})${skipped.length ? `; ${skipped.join('; ')}` : ''}`;
  report.notes.push(reason);
  return { report, msPerStep, cached: false, reason };
}

/** Forgets the choices made in this process (the cache file is left alone). */
export function forgetBackendChoices(): void {
  memory.clear();
}
