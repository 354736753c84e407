import { useEffect, useState } from 'react';
import { hasRole, useSession } from '../app/session';
import { href } from '../app/router';
import { ErrorNote, KeyValues, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { LossChart } from './loss-chart';
import { formatLoss, mergeProgress, type LossPoint } from './loss-series';
import { RunStatusBadge } from './run-status';
import { isActive, type RunProgressPoint, type RunView, type StoredFile } from './runs.api';

/** How often a run that has not finished is asked again. */
const POLL_MS = 1500;

export function RunPage({ runId }: { runId: string }) {
  const session = useSession();
  const [active, setActive] = useState(true);
  const state = useLoad(() => session.api.get<RunView>(`/training/runs/${encodeURIComponent(runId)}`), [session, runId], active ? POLL_MS : undefined);
  const run = state.data;
  useEffect(() => {
    if (run) setActive(isActive(run.status));
  }, [run?.status]);

  // The whole curve so far (every report the run made), read again when the run stops; between
  // those, the run's last progress is added at each poll.
  const history = useLoad(() => session.api.get<RunProgressPoint[]>(`/training/runs/${encodeURIComponent(runId)}/progress`), [session, runId, active]);
  const [series, setSeries] = useState<LossPoint[]>([]);
  useEffect(() => setSeries([]), [runId]);
  useEffect(() => {
    if (history.data) setSeries((s) => mergeProgress(s, history.data!));
  }, [history.data]);
  useEffect(() => {
    if (run?.lastProgress) setSeries((s) => mergeProgress(s, [run.lastProgress!]));
  }, [run?.lastProgress?.step, run?.lastProgress?.loss]);

  return (
    <Page
      title={`Training run ${runId.slice(0, 8)}`}
      actions={run && hasRole(session, 'engineer') && isActive(run.status) ? <CancelButton run={run} onDone={state.reload} /> : null}
    >
      <Loading state={state}>
        {(r) => (
          <>
            {state.error ? <ErrorNote error={state.error} /> : null}
            <div role="status" aria-live="polite" className="run-status" data-testid="run-status">
              <RunStatusBadge run={r} /> step {r.step}
              {r.totalSteps ? ` of ${r.totalSteps}` : ''}
              {isActive(r.status) ? <span className="muted"> · updating every {POLL_MS / 1000} s</span> : null}
            </div>
            <KeyValues
              rows={[
                ['Run id', <code key="id">{r.runId}</code>],
                ['Method', r.method],
                ['Backend', r.backend ?? (isActive(r.status) ? 'not started yet' : null)],
                ['Model name', r.request.modelName ?? 'default (<base preset>-<method>)'],
                ['Purpose', r.request.purpose],
                ['Base model', <Short key="b" id={r.request.baseModel.baseModelId} />],
                ['Requested by', <Short key="p" id={r.requestedBy} />],
                ['Requested', <When key="w" at={r.requestedAt} />],
                ['Attempts', r.attempts],
                ['Replaces run', r.replaces ? <a href={href('runs', r.replaces.runId)}>{r.replaces.runId}</a> : null],
              ]}
            />
            <Outcome run={r} />
            <section aria-labelledby="loss-title">
              <h2 id="loss-title">Loss</h2>
              {history.error ? <ErrorNote error={history.error} /> : null}
              <LossChart series={series} complete={!isActive(r.status)} />
            </section>
            <Snapshot run={r} />
            <section aria-labelledby="data-title">
              <h2 id="data-title">Training data</h2>
              <Table
                caption="Annotation sets"
                rows={r.request.annotationSets}
                rowKey={(s) => s.setId}
                columns={[
                  { header: 'Set', cell: (s) => <Short id={s.setId} /> },
                  { header: 'Project', cell: (s) => <Short id={s.projectId} /> },
                  { header: 'Version', cell: (s) => s.version },
                  { header: 'Content SHA-256', cell: (s) => <Short id={s.contentSha256} /> },
                ]}
              />
              <p>
                Evaluation:{' '}
                {r.request.evaluation.kind === 'held-out'
                  ? `held-out subjects, fraction ${r.request.evaluation.fraction}`
                  : `${r.request.evaluation.annotationSets.length} separate set(s)`}
              </p>
              <details>
                <summary>Hyperparameters</summary>
                <pre className="json">{JSON.stringify(r.request.hyperparameters, null, 2)}</pre>
              </details>
            </section>
            <Files
              title="Artifacts"
              files={r.outcome?.artifacts ?? []}
              empty={isActive(r.status) ? 'Artifacts appear when the run completes.' : 'No artifacts.'}
            />
            {r.checkpoint ? <Files title={`Checkpoint at step ${r.checkpoint.step}`} files={r.checkpoint.files} /> : null}
          </>
        )}
      </Loading>
    </Page>
  );
}

function Outcome({ run }: { run: RunView }) {
  const o = run.outcome;
  if (run.status === 'failed' && o)
    return (
      <div role="alert" className="note note-error">
        <strong>Failed{o.code ? ` (${o.code})` : ''}:</strong> {o.reason}
        {o.step != null ? ` at step ${o.step}` : ''}
      </div>
    );
  if (run.status === 'cancelled')
    return (
      <div className="note">
        <strong>Cancelled</strong>
        {o?.reason ? `: ${o.reason}` : ''}
      </div>
    );
  if (run.status !== 'completed' || !o) return null;
  return (
    <section aria-labelledby="outcome-title">
      <h2 id="outcome-title">Outcome</h2>
      <KeyValues
        rows={[
          ['Steps', o.steps],
          ['Final training loss', <span data-testid="final-train-loss">{formatLoss(o.finalTrainLoss)}</span>],
          ['Final held-out loss', formatLoss(o.finalHeldOutLoss)],
          ['Base model held-out loss', formatLoss(o.baseHeldOutLoss)],
          ['Tokens seen', o.tokensSeen],
          ['Wall time', o.wallSeconds !== undefined ? `${o.wallSeconds.toFixed(1)} s` : null],
        ]}
      />
    </section>
  );
}

function Snapshot({ run }: { run: RunView }) {
  const s = run.snapshot;
  return (
    <section aria-labelledby="snapshot-title">
      <h2 id="snapshot-title">Snapshot</h2>
      {!s ? (
        <p className="muted">Frozen before the first step; not yet.</p>
      ) : (
        <>
          <KeyValues
            rows={[
              ['Included', `${s.includedItems} items from ${s.includedSubjects} subjects`],
              ['Training', `${s.trainItems} items from ${s.trainSubjects} subjects`],
              ['Held out', `${s.heldOutItems} items from ${s.heldOutSubjects} subjects`],
              ['Excluded', `${s.excludedItems} items`],
              ['Consent checked as of', <When key="c" at={s.consentAsOf} />],
              ['Merkle root', <code key="m">{s.merkleRoot}</code>],
              ['Manifest', <code key="f">{s.manifest.sha256}</code>],
            ]}
          />
          <Table
            caption="Excluded items by reason"
            rows={s.excluded}
            rowKey={(e) => e.reason}
            empty="Nothing was excluded: every item's subject allowed this purpose."
            columns={[
              { header: 'Reason', cell: (e) => e.reason },
              { header: 'Items', cell: (e) => e.count },
            ]}
          />
        </>
      )}
    </section>
  );
}

function Files({ title, files, empty }: { title: string; files: StoredFile[]; empty?: string }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <Table
        caption={title}
        rows={files}
        rowKey={(f) => f.key}
        empty={empty}
        columns={[
          { header: 'Name', cell: (f) => f.name },
          { header: 'Size', cell: (f) => `${f.size.toLocaleString('en')} bytes` },
          { header: 'SHA-256', cell: (f) => <Short id={f.sha256} /> },
        ]}
      />
    </section>
  );
}

function CancelButton({ run, onDone }: { run: RunView; onDone: () => void }) {
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (run.cancelRequested) return <span className="muted">Cancellation requested</span>;
  return (
    <>
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          if (!window.confirm('Cancel this run? A running run stops at its next step.')) return;
          setBusy(true);
          try {
            await session.api.post(`/training/runs/${encodeURIComponent(run.runId)}/cancel`);
            setError(null);
            onDone();
          } catch (err) {
            setError(err as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        Cancel run
      </button>
      {error ? <ErrorNote error={error} /> : null}
    </>
  );
}
