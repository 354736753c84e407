import { Badge } from '../ui/components';
import type { AgreementStatistics, TaskCounts } from './annotation.api';
import { headlineAgreement, progressLabel, progressOf, ratio } from './progress';

/** A project's progress as a bar and in words. */
export function ProgressBar({ tasks, name }: { tasks: Partial<TaskCounts>; name: string }) {
  const p = progressOf(tasks);
  const label = progressLabel(p);
  return (
    <span className="ann-progress">
      <progress max={1} value={p.done} aria-label={`Progress of ${name}: ${label}`} /> <span data-testid="progress-label">{label}</span>
      {p.adjudication > 0 ? (
        <>
          {' '}
          <Badge tone="warn">{p.adjudication} in adjudication</Badge>
        </>
      ) : null}
    </span>
  );
}

export function AgreementHeadline({ stats }: { stats: AgreementStatistics | null | undefined }) {
  if (stats === undefined) return <span className="muted">…</span>;
  const h = stats && headlineAgreement(stats);
  if (!h) return <span className="muted">none yet</span>;
  return (
    <span title={`over ${stats.items} item(s) and ${stats.annotators} annotator(s)`}>
      {h.label} {ratio(h.value)}
    </span>
  );
}
