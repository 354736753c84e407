import type { ReactNode } from 'react';
import { ApiError } from '../api/api-client';
import { href } from '../app/router';
import { Badge, ErrorNote } from '../ui/components';
import { formatMetric, type MetricsComparison } from './metrics-comparison';
import type { VersionView } from './models.api';

export function AliasBadges({ model, aliases }: { model: string; aliases: Record<string, number> }) {
  const entries = Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span className="muted">none</span>;
  return (
    <span className="aliases">
      {entries.map(([alias, version]) => (
        <a key={alias} href={href('models', model, 'versions', version)} aria-label={`alias ${alias}: version ${version}`} data-alias={alias}>
          <Badge tone={alias === 'champion' ? 'ok' : 'info'}>
            {alias} → v{version}
          </Badge>
        </a>
      ))}
    </span>
  );
}

export function VersionState({ v }: { v: Pick<VersionView, 'flag' | 'archived'> }) {
  const parts: ReactNode[] = [];
  if (v.flag)
    parts.push(
      <Badge key="f" tone="bad">
        ⚑ needs retraining: {v.flag.subjects} subject(s) withdrew ({v.flag.items} items)
      </Badge>,
    );
  if (v.archived)
    parts.push(
      <Badge key="a" tone="warn">
        archived
      </Badge>,
    );
  return parts.length ? <>{parts}</> : <Badge tone="ok">live</Badge>;
}

/**
 * What the platform refused and why, in its words: a 403 for a missing role reads "not available
 * to your roles", a refusal by a rule (a second person must approve) names the rule.
 */
export function Refusal({ error }: { error: Error }) {
  if (
    error instanceof ApiError &&
    error.status < 500 &&
    error.code !== `HTTP_${error.status}` &&
    error.code !== 'FORBIDDEN' &&
    error.code !== 'UNAUTHENTICATED'
  )
    return (
      <div role="alert" className="note note-forbidden" data-testid="refusal">
        <strong>Refused ({error.code.toLowerCase().replace(/_/g, ' ')}):</strong> {error.message}
      </div>
    );
  return <ErrorNote error={error} />;
}

export function MetricsTables({ tables }: { tables: MetricsComparison[] }) {
  if (tables.length === 0) return <p className="muted">No completed evaluation yet.</p>;
  return (
    <>
      {tables.map((t) => (
        <table key={t.setSha256} className="table metrics" data-testid="metrics-table">
          <caption>
            Evaluation set <code title={t.setSha256}>{t.setSha256.slice(0, 12)}</code>
          </caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              {t.columns.map((c) => (
                <th key={c.version} scope="col">
                  Version {c.version}
                  {c.itemCount !== null ? <span className="muted"> ({c.itemCount} items)</span> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {t.rows.map((r) => (
              <tr key={r.metric} data-metric={r.metric}>
                <th scope="row">
                  {r.label} <span className="muted">({r.lowerIsBetter ? 'lower' : 'higher'} is better)</span>
                </th>
                {r.values.map((v, i) => (
                  <td key={t.columns[i].version} data-version={t.columns[i].version}>
                    {r.best === i ? <strong aria-label={`${formatMetric(v)}, best`}>{formatMetric(v)} ★</strong> : formatMetric(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </>
  );
}
