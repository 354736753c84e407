import type { AgreementStatistics, AnnotationSetRecord, LeaveOutReason, TaskCounts } from './annotation.api';

// What the project pages compute from the API's counts (pure, no DOM).

export interface Progress {
  /** Items with a task (cancelled ones included). */
  total: number;
  final: number;
  open: number;
  adjudication: number;
  cancelled: number;
  /** Items still to be annotated or decided: not cancelled. */
  active: number;
  /** Final items as a share of the active ones, 0..1 (1 when nothing is active). */
  done: number;
}

export function progressOf(tasks: Partial<TaskCounts>): Progress {
  const final = tasks.final ?? 0;
  const open = tasks.open ?? 0;
  const adjudication = tasks.adjudication ?? 0;
  const cancelled = tasks.cancelled ?? 0;
  const active = final + open + adjudication;
  return { total: active + cancelled, final, open, adjudication, cancelled, active, done: active === 0 ? (final > 0 ? 1 : 0) : final / active };
}

/** "12 of 15 final (80%)" */
export function progressLabel(p: Progress): string {
  if (p.active === 0) return p.cancelled > 0 ? `no items left (${p.cancelled} cancelled)` : 'no tasks yet';
  return `${p.final} of ${p.active} final (${Math.floor(p.done * 100)}%)`;
}

/**
 * Items of the dataset version left out for consent: those whose subject was excluded before the
 * tasks were created get no task (version items minus tasks), those excluded later have their
 * task cancelled. Without the version's item count (a role that may not read it) only the
 * cancelled ones are known.
 */
export function consentLeftOut(tasks: Partial<TaskCounts>, versionItems?: number): { cancelled: number; withoutTask: number | null; total: number | null } {
  const p = progressOf(tasks);
  if (versionItems === undefined) return { cancelled: p.cancelled, withoutTask: null, total: null };
  const withoutTask = Math.max(0, versionItems - p.total);
  return { cancelled: p.cancelled, withoutTask, total: withoutTask + p.cancelled };
}

/** The reasons the newest published set left items out, summed per reason. */
export function leftOutByReason(set: Pick<AnnotationSetRecord, 'leftOut'> | undefined): [LeaveOutReason, number][] {
  if (!set) return [];
  const sums = new Map<LeaveOutReason, number>();
  for (const l of set.leftOut) sums.set(l.reason, (sums.get(l.reason) ?? 0) + l.count);
  return [...sums.entries()];
}

/**
 * The one number a list shows for a project's agreement: Krippendorff's alpha (defined for
 * labels and text alike, missing answers allowed), else Fleiss' kappa, else the exact-match rate.
 */
export function headlineAgreement(stats: AgreementStatistics): { label: string; value: number } | null {
  if (stats.krippendorffAlpha !== null) return { label: "Krippendorff's α", value: stats.krippendorffAlpha };
  if (stats.fleissKappa?.value !== null && stats.fleissKappa?.value !== undefined) return { label: "Fleiss' κ", value: stats.fleissKappa.value };
  if (stats.exactMatchRate !== null) return { label: 'exact match', value: stats.exactMatchRate };
  return null;
}

/** A statistic with two decimals, or a dash when there is none. */
export function ratio(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2);
}

export function percent(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : `${Math.round(x * 100)}%`;
}

/** Whether an item's agreement reached the project's threshold (for its badge). */
export function agreementTone(value: number | null, threshold: number): 'ok' | 'warn' | 'info' {
  if (value === null) return 'info';
  return value >= threshold ? 'ok' : 'warn';
}
