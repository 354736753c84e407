import type { RunProgress } from './runs.api';

/** One point of the loss curve. */
export interface LossPoint {
  step: number;
  loss: number;
  heldOutLoss: number | null;
}

export interface LossSummary {
  points: number;
  first: LossPoint;
  last: LossPoint;
  min: LossPoint;
  /** The lowest held-out loss and its step, when any point has one. */
  minHeldOut: LossPoint | null;
}

/**
 * Adds progress reports to a series: ordered by step, one point per step (a resumed run reports
 * steps again; the newest report wins), so polling the run's last progress grows the curve.
 */
export function mergeProgress(series: readonly LossPoint[], reports: readonly Pick<RunProgress, 'step' | 'loss' | 'heldOutLoss'>[]): LossPoint[] {
  const byStep = new Map(series.map((p) => [p.step, p]));
  for (const r of reports)
    if (Number.isFinite(r.loss) && Number.isInteger(r.step)) byStep.set(r.step, { step: r.step, loss: r.loss, heldOutLoss: r.heldOutLoss ?? null });
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function summarize(series: readonly LossPoint[]): LossSummary | null {
  if (series.length === 0) return null;
  let min = series[0];
  let minHeldOut: LossPoint | null = null;
  for (const p of series) {
    if (p.loss < min.loss) min = p;
    if (p.heldOutLoss !== null && (minHeldOut === null || p.heldOutLoss < minHeldOut.heldOutLoss!)) minHeldOut = p;
  }
  return { points: series.length, first: series[0], last: series[series.length - 1], min, minHeldOut };
}

/** Losses as the run page prints them (and the browser tests read them back). */
export function formatLoss(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : x.toFixed(4);
}
