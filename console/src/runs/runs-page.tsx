import { query } from '../api/api-client';
import { hasRole, useSession } from '../app/session';
import { href, navigate } from '../app/router';
import { Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { RUN_STATUSES, isActive, type RunView } from './runs.api';
import { RunStatusBadge } from './run-status';
import { formatLoss } from './loss-series';

export function RunsPage({ status }: { status?: string }) {
  const session = useSession();
  const state = useLoad(() => session.api.get<RunView[]>(`/training/runs${query({ status, limit: 100 })}`), [session, status], 5000);
  return (
    <Page
      title="Training runs"
      actions={
        hasRole(session, 'engineer') ? (
          <a className="button" href={href('runs', 'new')}>
            Request a run
          </a>
        ) : null
      }
    >
      <div className="controls">
        <label htmlFor="run-status">Status</label>
        <select id="run-status" value={status ?? ''} onChange={(e) => navigate(href('runs', { status: e.target.value || undefined }))}>
          <option value="">any</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <Loading state={state}>
        {(runs) => (
          <Table
            caption="Training runs, newest first"
            rows={runs}
            rowKey={(r) => r.runId}
            empty="No training runs yet."
            columns={[
              {
                header: 'Run',
                cell: (r) => (
                  <a href={href('runs', r.runId)} aria-label={`Run ${r.runId}`}>
                    <Short id={r.runId} />
                  </a>
                ),
              },
              { header: 'Status', cell: (r) => <RunStatusBadge run={r} /> },
              { header: 'Method', cell: (r) => r.method },
              { header: 'Model', cell: (r) => r.request.modelName ?? <span className="muted">default</span> },
              { header: 'Step', cell: (r) => `${r.step}${r.totalSteps ? ` / ${r.totalSteps}` : ''}` },
              { header: 'Loss', cell: (r) => formatLoss(r.outcome?.finalTrainLoss ?? r.lastProgress?.loss) },
              { header: 'Backend', cell: (r) => r.backend ?? <span className="muted">{isActive(r.status) ? 'not started' : '—'}</span> },
              { header: 'Requested', cell: (r) => <When at={r.requestedAt} /> },
            ]}
          />
        )}
      </Loading>
    </Page>
  );
}
