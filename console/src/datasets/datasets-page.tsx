import { useState, type FormEvent } from 'react';
import type { RejectedUploadsQuery, RejectedUploadsQueryVariables } from '../api/graphql.generated';
import { href, navigate } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { Badge, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { datasetsFromVersions, parseRejection, reasonCounts } from './dataset-model';
import type { ReceivedDatasetVersion } from './datasets.api';
import { REJECTED_UPLOADS_QUERY } from './datasets.graphql';

/** The datasets published so far, a way to open one by name, and (for auditors) the uploads ingestion refused. */
export function DatasetsPage() {
  const session = useSession();
  return (
    <Page title="Datasets">
      <OpenDataset />
      {hasRole(session, 'steward', 'auditor') ? (
        <PublishedDatasets />
      ) : (
        <p className="muted">Open a dataset by its name or id; the list of published datasets is for stewards and auditors.</p>
      )}
      {hasRole(session, 'auditor') ? (
        <RejectedUploads />
      ) : (
        <p className="muted">Rejected uploads (with their reasons) are in the audit trail, which auditors read.</p>
      )}
    </Page>
  );
}

function OpenDataset() {
  const [ref, setRef] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ref.trim()) navigate(href('datasets', ref.trim()));
  };
  return (
    <form className="row controls" onSubmit={submit} aria-label="Open a dataset">
      <div>
        <label htmlFor="dataset-ref">Dataset name or id</label>
        <input id="dataset-ref" value={ref} onChange={(e) => setRef(e.target.value)} placeholder="trellis-demo" />
      </div>
      <div className="controls-submit">
        <button type="submit" disabled={!ref.trim()}>
          Open
        </button>
      </div>
    </form>
  );
}

function PublishedDatasets() {
  const { api } = useSession();
  const datasets = useLoad(() => api.get<ReceivedDatasetVersion[]>('/annotation/dataset-versions').then(datasetsFromVersions), [api]);
  return (
    <>
      <h2>Published</h2>
      <Loading state={datasets}>
        {(rows) => (
          <Table
            caption="Published datasets"
            rows={rows}
            rowKey={(d) => d.datasetId}
            empty="No dataset has published a version yet."
            columns={[
              { header: 'Name', cell: (d) => <a href={href('datasets', d.name)}>{d.name}</a> },
              { header: 'Id', cell: (d) => <Short id={d.datasetId} /> },
              {
                header: 'Versions',
                cell: (d) => (
                  <span className="row">
                    {d.versions.map((v) => (
                      <a key={v.version} href={href('datasets', d.name, 'versions', v.version)} aria-label={`${d.name} version ${v.version}`}>
                        v{v.version}
                      </a>
                    ))}
                  </span>
                ),
              },
              {
                header: 'Latest in annotation',
                cell: (d) => {
                  const last = d.versions[d.versions.length - 1];
                  return (
                    <>
                      <Badge tone={last.status === 'ready' ? 'ok' : 'warn'}>{last.status}</Badge> {last.items} items{last.problem ? ` — ${last.problem}` : ''}
                    </>
                  );
                },
              },
            ]}
          />
        )}
      </Loading>
    </>
  );
}

const REJECTIONS_SHOWN = 1000;

function RejectedUploads() {
  const { api } = useSession();
  const rejected = useLoad(
    () =>
      api
        .graphql<RejectedUploadsQuery, RejectedUploadsQueryVariables>(REJECTED_UPLOADS_QUERY, { first: REJECTIONS_SHOWN })
        .then((d) => ({ more: d.auditTrail.pageInfo.hasNextPage, rows: d.auditTrail.edges.map((e) => ({ ...e.node, ...parseRejection(e.node.data) })) })),
    [api],
  );
  return (
    <>
      <h2>Rejected uploads</h2>
      <Loading state={rejected}>
        {({ rows, more }) => (
          <>
            {rows.length ? (
              <p data-testid="rejection-reasons">
                {rows.length}
                {more ? '+' : ''} refused:{' '}
                {reasonCounts(rows)
                  .map(([code, n]) => `${code} ${n}`)
                  .join(', ')}
                . They never became assets, so no dataset holds them.
              </p>
            ) : null}
            <Table
              caption="Uploads ingestion refused, newest first"
              rows={rows}
              rowKey={(r) => r.eventId}
              empty="No upload has been refused."
              columns={[
                { header: 'When', cell: (r) => <When at={r.occurredAt} /> },
                { header: 'Reason', cell: (r) => <Badge tone="bad">{r.reasonCode}</Badge> },
                { header: 'Why', cell: (r) => r.message },
                {
                  header: 'Subject',
                  cell: (r) => (r.subjectId ? <a href={href('subjects', r.subjectId)}>{r.subjectId}</a> : <span className="muted">—</span>),
                },
                { header: 'Upload', cell: (r) => <Short id={r.assetId} /> },
                { header: 'Declared type', cell: (r) => r.declaredMimeType ?? '—' },
              ]}
            />
          </>
        )}
      </Loading>
    </>
  );
}
