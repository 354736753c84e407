import { useState, type FormEvent } from 'react';
import type { DatasetVersionSourcesQuery, DatasetVersionSourcesQueryVariables } from '../api/graphql.generated';
import { href } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { KeyValues, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { datasetVersionNodeId, deidentificationUses, memberCounts } from './dataset-model';
import type { DatasetManifest, DatasetView, VersionDiff } from './datasets.api';
import { DATASET_VERSION_SOURCES_QUERY } from './datasets.graphql';

const enc = encodeURIComponent;

/** A dataset: its current members and every published version with its Merkle root. */
export function DatasetPage({ datasetRef }: { datasetRef: string }) {
  const { api } = useSession();
  const dataset = useLoad(() => api.get<DatasetView>(`/ingestion/datasets/${enc(datasetRef)}`), [api, datasetRef]);
  return (
    <Page title={`Dataset ${datasetRef}`}>
      <p>
        <a href={href('datasets')}>All datasets</a>
      </p>
      <Loading state={dataset}>
        {(d) => (
          <>
            <div data-testid="dataset-summary">
              <KeyValues
                rows={[
                  ['name', d.name],
                  ['id', <code key="id">{d.datasetId}</code>],
                  ['created', <When key="c" at={d.createdAt} />],
                  ['members now', String(d.memberCount)],
                  ['latest version', d.latestVersion ? String(d.latestVersion) : 'none published'],
                ]}
              />
            </div>
            <Table
              caption="Published versions"
              rows={d.versions}
              rowKey={(v) => String(v.version)}
              empty="No version published yet."
              columns={[
                { header: 'Version', cell: (v) => <a href={href('datasets', d.name, 'versions', v.version)}>v{v.version}</a> },
                { header: 'Members', cell: (v) => String(v.memberCount) },
                { header: 'Merkle root', cell: (v) => <code className="id">{v.merkleRoot}</code> },
                { header: 'Published', cell: (v) => <When at={v.publishedAt} /> },
                { header: 'Manifest SHA-256', cell: (v) => <Short id={v.manifestSha256} /> },
              ]}
            />
            {d.versions.length > 1 ? <DiffForm datasetRef={d.name} versions={d.versions.map((v) => v.version)} /> : null}
          </>
        )}
      </Loading>
    </Page>
  );
}

function DiffForm({ datasetRef, versions }: { datasetRef: string; versions: number[] }) {
  const { api } = useSession();
  const [from, setFrom] = useState(versions[versions.length - 2]);
  const [to, setTo] = useState(versions[versions.length - 1]);
  const [asked, setAsked] = useState<{ from: number; to: number } | null>(null);
  const diff = useLoad(
    () => (asked ? api.get<VersionDiff>(`/ingestion/datasets/${enc(datasetRef)}/diff?from=${asked.from}&to=${asked.to}`) : Promise.resolve(null)),
    [api, datasetRef, asked],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAsked({ from, to });
  };
  const select = (id: string, label: string, value: number, set: (n: number) => void) => (
    <div>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v} value={v}>
            v{v}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <>
      <h2>Compare versions</h2>
      <form className="row controls" onSubmit={submit} aria-label="Compare versions">
        {select('diff-from', 'From', from, setFrom)}
        {select('diff-to', 'To', to, setTo)}
        <div className="controls-submit">
          <button type="submit">Compare</button>
        </div>
      </form>
      <Loading state={diff}>
        {(d) =>
          d ? (
            <div className="card" data-testid="version-diff">
              <KeyValues
                rows={[
                  ['added', d.added.length ? d.added.join(', ') : 'none'],
                  ['removed', d.removed.length ? d.removed.join(', ') : 'none'],
                  ['changed content', d.changed.length ? d.changed.join(', ') : 'none'],
                  ['unchanged', String(d.unchanged)],
                ]}
              />
            </div>
          ) : null
        }
      </Loading>
    </>
  );
}

/** One published version: its manifest (verified by the platform against its recorded hash), counts, de-identification and members. */
export function DatasetVersionPage({ datasetRef, version }: { datasetRef: string; version: string }) {
  const session = useSession();
  const { api } = session;
  const manifest = useLoad(() => api.get<DatasetManifest>(`/ingestion/datasets/${enc(datasetRef)}/versions/${enc(version)}`), [api, datasetRef, version]);
  const subjectsLinked = hasRole(session, 'steward', 'auditor');
  return (
    <Page title={`${datasetRef} v${version}`}>
      <p>
        <a href={href('datasets', datasetRef)}>Dataset {datasetRef}</a>
      </p>
      <Loading state={manifest}>
        {(m) => {
          const counts = memberCounts(m.members);
          return (
            <>
              <div data-testid="version-summary">
                <KeyValues
                  rows={[
                    ['dataset', <code key="d">{m.datasetId}</code>],
                    ['version', String(m.version)],
                    ['members', String(counts.members)],
                    ['by kind', counts.byKind.map(([k, n]) => `${k} ${n}`).join(', ')],
                    ['subjects', String(counts.subjects)],
                    ['Merkle root', <code key="r">{m.merkleRoot}</code>],
                    ['manifest', <code key="k">{m.manifestKey}</code>],
                  ]}
                />
              </div>
              <p className="muted">The Merkle root (RFC 6962) is over the members sorted by asset id; the manifest was checked against its recorded SHA-256.</p>
              <h2>De-identification applied</h2>
              <Deidentification datasetId={m.datasetId} version={m.version} />
              <Table
                caption={`Members (${counts.members})`}
                rows={m.members}
                rowKey={(r) => r.assetId}
                columns={[
                  { header: 'Asset', cell: (r) => <Short id={r.assetId} /> },
                  { header: 'Kind', cell: (r) => r.kind },
                  { header: 'Type', cell: (r) => r.mimeType },
                  {
                    header: 'Subject (pseudonymous)',
                    cell: (r) => (subjectsLinked ? <a href={href('subjects', r.subjectId)}>{r.subjectId}</a> : <code>{r.subjectId}</code>),
                  },
                  { header: 'Describes', cell: (r) => (r.describesAssetId ? <Short id={r.describesAssetId} /> : '—') },
                  { header: 'SHA-256', cell: (r) => <Short id={r.sha256} /> },
                ]}
              />
            </>
          );
        }}
      </Loading>
    </Page>
  );
}

function Deidentification({ datasetId, version }: { datasetId: string; version: number }) {
  const session = useSession();
  const { api } = session;
  const readsLineage = hasRole(session, 'auditor', 'engineer', 'approver', 'steward');
  const uses = useLoad(
    () =>
      readsLineage
        ? api
            .graphql<DatasetVersionSourcesQuery, DatasetVersionSourcesQueryVariables>(DATASET_VERSION_SOURCES_QUERY, {
              id: datasetVersionNodeId(datasetId, version),
            })
            .then((d) => deidentificationUses(d.lineage.nodes))
        : Promise.resolve(null),
    [api, datasetId, version, readsLineage],
  );
  return (
    <Loading state={uses}>
      {(rows) =>
        rows === null ? (
          <p className="muted">The de-identification record is in the lineage graph, which your roles do not read.</p>
        ) : (
          <Table
            caption="De-identification per method"
            rows={rows}
            rowKey={(r) => r.method}
            empty="The lineage graph holds no de-identification record for this version yet."
            columns={[
              { header: 'Method', cell: (r) => r.method },
              { header: 'Options', cell: (r) => (r.options.length ? r.options.join(', ') : '—') },
              { header: 'Assets', cell: (r) => String(r.assets) },
            ]}
          />
        )
      }
    </Loading>
  );
}
