import { compareMetrics, formatMetric } from './metrics-comparison';
import type { EvaluationView, Metrics } from './models.api';

const evaluation = (
  id: string,
  modelVersionId: string,
  set: string,
  metrics: Partial<Metrics> | null,
  finishedAt = '2026-01-01T00:00:00Z',
): EvaluationView => ({
  evaluationId: id,
  modelId: 'm',
  modelVersionId,
  status: metrics ? 'completed' : 'failed',
  annotationSet: { setId: `set-${set}`, contentSha256: set },
  attempts: 1,
  metrics: metrics ? { bleu: null, ciderD: null, vqaAccuracy: null, perplexity: null, ...metrics } : null,
  itemCount: 6,
  predictions: null,
  failure: null,
  requestedBy: 'p',
  requestedAt: finishedAt,
  finishedAt,
});

const versions: Record<string, number> = { v1: 1, v2: 2, v3: 3 };

describe('compareMetrics', () => {
  it('puts versions side by side per evaluation set and marks the best of each metric', () => {
    const [table] = compareMetrics(
      [evaluation('e2', 'v2', 'A', { bleu: 4, perplexity: 6.5 }), evaluation('e1', 'v1', 'A', { bleu: 3, perplexity: 6.3 })],
      (id) => versions[id],
    );
    expect(table.setSha256).toBe('A');
    expect(table.columns.map((c) => c.version)).toEqual([1, 2]);
    // Metrics no evaluation computed are left out; perplexity is better lower.
    expect(table.rows.map((r) => [r.metric, r.values, r.best])).toEqual([
      ['bleu', [3, 4], 1],
      ['perplexity', [6.3, 6.5], 0],
    ]);
  });

  it('keeps the latest completed evaluation of a version on a set, and skips failed ones and unknown versions', () => {
    const tables = compareMetrics(
      [
        evaluation('old', 'v1', 'A', { bleu: 1 }, '2026-01-01T00:00:00Z'),
        evaluation('new', 'v1', 'A', { bleu: 2 }, '2026-01-02T00:00:00Z'),
        evaluation('failed', 'v2', 'A', null),
        evaluation('gone', 'v9', 'A', { bleu: 9 }),
        evaluation('other', 'v3', 'B', { bleu: 5 }),
      ],
      (id) => versions[id],
    );
    expect(tables.map((t) => [t.setSha256, t.columns.map((c) => c.evaluationId)])).toEqual([
      ['A', ['new']],
      ['B', ['other']],
    ]);
    // One value alone is not "the best", nor are equal ones.
    expect(tables[0].rows[0].best).toBeNull();
    const [tie] = compareMetrics([evaluation('a', 'v1', 'A', { bleu: 3 }), evaluation('b', 'v2', 'A', { bleu: 3 })], (id) => versions[id]);
    expect(tie.rows[0].best).toBeNull();
  });

  it('formats values as the card does', () => {
    expect(formatMetric(3.207273934137627)).toBe('3.2073');
    expect(formatMetric(null)).toBe('not computed');
  });
});
