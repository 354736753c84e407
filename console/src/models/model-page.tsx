import type { AliasHistoryQuery, AliasHistoryQueryVariables } from '../api/graphql.generated';
import { query } from '../api/api-client';
import { useSession } from '../app/session';
import { href } from '../app/router';
import { Badge, ErrorNote, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { compareMetrics } from './metrics-comparison';
import { AliasBadges, MetricsTables, VersionState } from './model-parts';
import { ALIAS_HISTORY_QUERY } from './models.graphql';
import type { EvaluationView, ModelView, PromotionView, VersionView } from './models.api';
import { PromotionRequestForm, Promotions } from './promotions';

export function ModelPage({ name }: { name: string }) {
  const session = useSession();
  const path = `/registry/models/${encodeURIComponent(name)}`;
  const model = useLoad(() => session.api.get<ModelView>(path), [session, path]);
  const versions = useLoad(() => session.api.get<VersionView[]>(`${path}/versions`), [session, path]);
  const evaluations = useLoad(
    async () => (await session.api.get<EvaluationView[]>(`/registry/evaluations${query({ limit: 1000 })}`)).filter((e) => e.modelId === model.data?.modelId),
    [session, model.data?.modelId],
  );
  const history = useLoad(
    () => session.api.graphql<AliasHistoryQuery, AliasHistoryQueryVariables>(ALIAS_HISTORY_QUERY, { model: name }),
    [session, name],
    // The history comes from the lineage graph, which follows the registry's log a moment later.
    5000,
  );
  const promotions = useLoad(() => session.api.get<PromotionView[]>(`/registry/promotions?model=${encodeURIComponent(name)}&limit=1000`), [session, name]);
  const reload = () => {
    model.reload();
    versions.reload();
    history.reload();
    promotions.reload();
  };
  const versionById = new Map((versions.data ?? []).map((v) => [v.modelVersionId, v.version]));

  return (
    <Page title={`Model ${name}`}>
      <Loading state={model}>
        {(m) => (
          <>
            <p data-testid="model-aliases">
              Aliases: <AliasBadges model={m.name} aliases={m.aliases} />
            </p>
            {m.description ? <p>{m.description}</p> : null}
            <section aria-labelledby="versions-title">
              <h2 id="versions-title">Versions</h2>
              <Loading state={versions}>
                {(vs) => (
                  <Table
                    caption="Versions, oldest first"
                    rows={vs}
                    rowKey={(v) => v.modelVersionId}
                    columns={[
                      { header: 'Version', cell: (v) => <a href={href('models', name, 'versions', v.version)}>Version {v.version}</a> },
                      { header: 'State', cell: (v) => <VersionState v={v} /> },
                      { header: 'Aliases', cell: (v) => v.aliases.join(', ') || <span className="muted">—</span> },
                      { header: 'Method', cell: (v) => v.method },
                      {
                        header: 'Run',
                        cell: (v) =>
                          v.source.runId ? (
                            <a href={href('runs', v.source.runId)} aria-label={`run ${v.source.runId}`}>
                              <Short id={v.source.runId} />
                            </a>
                          ) : (
                            v.source.kind
                          ),
                      },
                      {
                        header: 'Parameters',
                        cell: (v) => `${v.parameters.total.toLocaleString('en')} (${v.parameters.trainable.toLocaleString('en')} trainable)`,
                      },
                      { header: 'Registered', cell: (v) => <When at={v.registeredAt} /> },
                    ]}
                  />
                )}
              </Loading>
            </section>
            <section aria-labelledby="metrics-title">
              <h2 id="metrics-title">Evaluation metrics, side by side</h2>
              <Loading state={evaluations}>{(es) => <MetricsTables tables={compareMetrics(es, (id) => versionById.get(id))} />}</Loading>
            </section>
            <section aria-labelledby="promotions-title">
              <h2 id="promotions-title">Promotions: gates and approvals</h2>
              <PromotionRequestForm model={name} versions={versions.data ?? []} onRequested={reload} />
              <Loading state={promotions}>{(ps) => <Promotions promotions={ps} versionById={versionById} onDecided={reload} />}</Loading>
            </section>
            <section aria-labelledby="history-title">
              <h2 id="history-title">Alias history</h2>
              {history.error ? <ErrorNote error={history.error} /> : null}
              {history.data ? (
                <Table
                  caption="Every move of the aliases, oldest first"
                  rows={history.data.aliasHistory.moves}
                  rowKey={(mv) => String(mv.position)}
                  empty="No alias has moved yet."
                  columns={[
                    { header: 'When', cell: (mv) => <When at={mv.movedAt} /> },
                    { header: 'Alias', cell: (mv) => <Badge>{mv.alias}</Badge> },
                    { header: 'Kind', cell: (mv) => mv.kind },
                    {
                      header: 'Move',
                      cell: (mv) =>
                        `${mv.previousVersion === null || mv.previousVersion === undefined ? '—' : `v${mv.previousVersion}`} → ${mv.version == null ? 'off the model' : `v${mv.version}`}`,
                    },
                    { header: 'By', cell: (mv) => <Short id={mv.movedBy} /> },
                    { header: 'Reason', cell: (mv) => mv.reason },
                  ]}
                />
              ) : null}
            </section>
          </>
        )}
      </Loading>
    </Page>
  );
}
