import type { ProvenanceQuery, ProvenanceQueryVariables } from '../api/graphql.generated';
import { href } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { KeyValues, Loading, Page } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { LineageExplorer } from './lineage-explorer';
import { flagsOf } from './lineage-graph-model';
import { PROVENANCE_QUERY } from './lineage.graphql';

interface RegisteredModel {
  name: string;
  aliases: Record<string, number>;
}
interface ModelVersion {
  modelVersionId: string;
  version: number;
}

/** The champion of each registered model (the first one found), with its provenance graph. */
interface Champion {
  model: string;
  version: number;
  modelVersionId: string;
}

/**
 * The start page: for those who may read the registry, the champion's provenance — what an
 * auditor opens the console for; for the others, where their work is.
 */
export function HomePage() {
  const session = useSession();
  if (!hasRole(session, 'engineer', 'approver', 'auditor'))
    return (
      <Page title="Trellis">
        <p>Signed in as {session.roles.join(', ')}. Your work:</p>
        <ul>
          {hasRole(session, 'annotator', 'reviewer', 'steward') ? (
            <li>
              <a href={href('annotation')}>Annotation projects</a>
            </li>
          ) : null}
          {hasRole(session, 'steward') ? (
            <>
              <li>
                <a href={href('datasets')}>Datasets</a>
              </li>
              <li>
                <a href={href('subjects')}>Subjects and consent</a>
              </li>
            </>
          ) : null}
        </ul>
      </Page>
    );
  return <ChampionHome />;
}

function ChampionHome() {
  const { api } = useSession();
  const champion = useLoad(async (): Promise<Champion | null> => {
    const models = await api.get<RegisteredModel[]>('/registry/models');
    const holder = models.find((m) => m.aliases.champion !== undefined);
    if (!holder) return null;
    const version = await api.get<ModelVersion>(`/registry/models/${encodeURIComponent(holder.name)}/versions/${holder.aliases.champion}`);
    return { model: holder.name, version: version.version, modelVersionId: version.modelVersionId };
  }, [api]);
  return (
    <Page title="Champion provenance">
      <Loading state={champion}>
        {(c) =>
          c ? (
            <>
              <p>
                <a href={href('models', c.model)}>{c.model}</a> version {c.version} holds <strong>champion</strong>. Where it came from:
              </p>
              <ProvenanceSummary modelVersionId={c.modelVersionId} />
              <LineageExplorer root={`model-version:${c.modelVersionId}`} direction="UPSTREAM" depth={2} />
              <p>
                <a href={href('lineage', `model-version:${c.modelVersionId}`, { direction: 'BOTH', depth: '2' })}>Open in the lineage view</a> (as of any time,
                both directions).
              </p>
            </>
          ) : (
            <p className="muted">
              No model holds the champion alias yet. <a href={href('models')}>Models</a>
            </p>
          )
        }
      </Loading>
    </Page>
  );
}

function ProvenanceSummary({ modelVersionId }: { modelVersionId: string }) {
  const { api } = useSession();
  const provenance = useLoad(
    () => api.graphql<ProvenanceQuery, ProvenanceQueryVariables>(PROVENANCE_QUERY, { id: modelVersionId }).then((d) => d.modelProvenance),
    [api, modelVersionId],
  );
  return (
    <Loading state={provenance}>
      {(p) => {
        const flags = flagsOf(p.modelVersion);
        return (
          <div className="card" data-testid="provenance-summary">
            {flags.length ? (
              <p role="alert" className="note note-error">
                ⚑ Flagged: {flags.join(', ')}. A subject whose data reached this version has withdrawn consent.
              </p>
            ) : null}
            <KeyValues
              rows={[
                ['base model', p.baseModel?.label ?? null],
                ['snapshot', p.snapshot?.label ?? null],
                ['dataset versions', p.datasetVersions.edges.map((e) => e.node.label).join(', ')],
                ['annotation sets', p.annotationSets.edges.map((e) => e.node.label).join(', ')],
                ['assets', String(p.assets)],
                ['subjects', String(p.subjects)],
                ['consents', String(p.consents)],
                ['de-identification', p.deidentification.map((d) => `${d.method} (${d.assets})`).join(', ')],
                ['annotators', String(p.annotators.length)],
                ['reviewers', String(p.reviewers.length)],
                ['approvers', String(p.approvers.length)],
                ['evaluations', String(p.evaluations.totalCount)],
              ]}
            />
          </div>
        );
      }}
    </Loading>
  );
}
