import { METRICS, type EvaluationView, type MetricName } from './models.api';

export const METRIC_LABELS: Record<MetricName, string> = { bleu: 'BLEU', ciderD: 'CIDEr-D', vqaAccuracy: 'VQA accuracy', perplexity: 'Perplexity' };
const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set(['perplexity']);

export interface ComparisonColumn {
  version: number;
  evaluationId: string;
  itemCount: number | null;
}

export interface ComparisonRow {
  metric: MetricName;
  label: string;
  lowerIsBetter: boolean;
  /** One value per column, null where the evaluation did not compute it. */
  values: (number | null)[];
  /** Index of the best value (ties: the first), or null when fewer than two values compare. */
  best: number | null;
}

export interface MetricsComparison {
  /** The evaluation set compared on (content hash). */
  setSha256: string;
  columns: ComparisonColumn[];
  rows: ComparisonRow[];
}

/**
 * Metrics side by side: one table per evaluation set (versions are only comparable on the same
 * set, as the promotion gates compare them), one column per version (its latest completed
 * evaluation there), one row per metric any of them computed, the best marked.
 */
export function compareMetrics(evaluations: EvaluationView[], versionOf: (modelVersionId: string) => number | undefined): MetricsComparison[] {
  const bySet = new Map<string, Map<number, EvaluationView>>();
  for (const e of evaluations) {
    const version = versionOf(e.modelVersionId);
    if (e.status !== 'completed' || !e.metrics || version === undefined) continue;
    const set = bySet.get(e.annotationSet.contentSha256) ?? new Map<number, EvaluationView>();
    const held = set.get(version);
    if (!held || (e.finishedAt ?? '') > (held.finishedAt ?? '')) set.set(version, e);
    bySet.set(e.annotationSet.contentSha256, set);
  }
  return [...bySet.entries()].map(([setSha256, byVersion]) => {
    const evals = [...byVersion.entries()].sort(([a], [b]) => a - b);
    const columns = evals.map(([version, e]) => ({ version, evaluationId: e.evaluationId, itemCount: e.itemCount }));
    const rows = METRICS.flatMap((metric): ComparisonRow[] => {
      const values = evals.map(([, e]) => e.metrics?.[metric] ?? null);
      if (values.every((v) => v === null)) return [];
      const lowerIsBetter = LOWER_IS_BETTER.has(metric);
      return [{ metric, label: METRIC_LABELS[metric], lowerIsBetter, values, best: bestIndex(values, lowerIsBetter) }];
    });
    return { setSha256, columns, rows };
  });
}

function bestIndex(values: (number | null)[], lowerIsBetter: boolean): number | null {
  let best: number | null = null;
  let count = 0;
  values.forEach((v, i) => {
    if (v === null) return;
    count++;
    if (best === null || (lowerIsBetter ? v < values[best]! : v > values[best]!)) best = i;
  });
  // A tie for the best is no one's best.
  const tied = best !== null && values.some((v, i) => i !== best && v === values[best!]);
  return count >= 2 && !tied ? best : null;
}

/** Four significant decimals, as the model card prints them. */
export function formatMetric(value: number | null): string {
  return value === null ? 'not computed' : value.toFixed(4);
}
