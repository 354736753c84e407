import { query } from '../api/api-client';
import { useSession } from '../app/session';
import { href } from '../app/router';
import { ErrorNote, KeyValues, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { CardView } from './card-view';
import { formatMetric, METRIC_LABELS } from './metrics-comparison';
import { VersionState } from './model-parts';
import { METRICS, type EvaluationView, type VersionView } from './models.api';
import { PromotionRequestForm } from './promotions';

export function VersionPage({ name, version }: { name: string; version: string }) {
  const session = useSession();
  const path = `/registry/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
  const state = useLoad(() => session.api.get<VersionView>(path), [session, path]);
  const card = useLoad(() => session.api.text(`${path}/card`), [session, path]);
  const evaluations = useLoad(() => session.api.get<EvaluationView[]>(`/registry/evaluations${query({ model: name, version })}`), [session, name, version]);
  return (
    <Page title={`${name} version ${version}`}>
      <p>
        <a href={href('models', name)}>All versions of {name}</a>
      </p>
      <Loading state={state}>
        {(v) => (
          <>
            <KeyValues
              rows={[
                [
                  'Model',
                  <a key="m" href={href('models', v.modelName)}>
                    {v.modelName}
                  </a>,
                ],
                ['Version', <span data-testid="version-number">{v.version}</span>],
                ['Aliases', <span data-testid="version-aliases">{v.aliases.join(', ') || 'none'}</span>],
                ['State', <VersionState key="s" v={v} />],
                ['Method', v.method],
                ['Purpose', v.purpose],
                [
                  'Training run',
                  v.source.runId ? (
                    <a key="r" href={href('runs', v.source.runId)}>
                      {v.source.runId}
                    </a>
                  ) : (
                    v.source.kind
                  ),
                ],
                ['Base model', <Short key="b" id={v.baseModel.baseModelId} />],
                ['Parameters', `${v.parameters.total.toLocaleString('en')} total, ${v.parameters.trainable.toLocaleString('en')} trainable`],
                [
                  'Snapshot',
                  v.snapshot
                    ? `${v.snapshot.includedItems} items from ${v.snapshot.includedSubjects} subjects; Merkle root ${v.snapshot.merkleRoot.slice(0, 16)}…`
                    : null,
                ],
                ['Registered', <When key="w" at={v.registeredAt} />],
                ['Archived', v.archived ? `${v.archived.at}: ${v.archived.reason}` : null],
                [
                  'Lineage',
                  <a key="l" href={href('lineage', `model-version:${v.modelVersionId}`)}>
                    provenance graph
                  </a>,
                ],
              ]}
            />
            <section aria-labelledby="evals-title">
              <h2 id="evals-title">Evaluations</h2>
              <Loading state={evaluations}>
                {(es) => (
                  <Table
                    caption="Evaluations of this version, newest first"
                    rows={es}
                    rowKey={(e) => e.evaluationId}
                    empty="Not evaluated yet."
                    columns={[
                      { header: 'Set', cell: (e) => <Short id={e.annotationSet.contentSha256} /> },
                      { header: 'Status', cell: (e) => e.status + (e.failure ? `: ${e.failure.reason}` : '') },
                      ...METRICS.map((m) => ({ header: METRIC_LABELS[m], cell: (e: EvaluationView) => (e.metrics ? formatMetric(e.metrics[m]) : '—') })),
                      { header: 'Items', cell: (e) => e.itemCount ?? '—' },
                      { header: 'Finished', cell: (e) => <When at={e.finishedAt} /> },
                    ]}
                  />
                )}
              </Loading>
            </section>
            <section aria-labelledby="files-title">
              <h2 id="files-title">Files</h2>
              <Table
                caption="Files of this version"
                rows={v.files}
                rowKey={(f) => f.key}
                columns={[
                  { header: 'Name', cell: (f) => f.name },
                  { header: 'Size', cell: (f) => `${f.size.toLocaleString('en')} bytes` },
                  { header: 'SHA-256', cell: (f) => <Short id={f.sha256} /> },
                ]}
              />
            </section>
            <PromotionRequestForm model={v.modelName} versions={[v]} version={v.version} onRequested={() => state.reload()} />
          </>
        )}
      </Loading>
      <section aria-labelledby="card-title">
        <h2 id="card-title">Model card</h2>
        {card.error ? <ErrorNote error={card.error} /> : null}
        {card.data !== undefined ? <CardView markdown={card.data} /> : !card.error ? <p className="muted">Loading…</p> : null}
      </section>
    </Page>
  );
}
