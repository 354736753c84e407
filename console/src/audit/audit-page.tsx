import { useEffect, useState, type FormEvent } from 'react';
import type {
  AuditTrailQuery,
  AuditTrailQueryVariables,
  EventLogsQuery,
  VerifyAuditChainQuery,
  VerifyAuditChainQueryVariables,
} from '../api/graphql.generated';
import { href, navigate, type Route } from '../app/router';
import { useSession } from '../app/session';
import { Badge, ErrorNote, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { chainText, checkFilters, filtersFromParams, prettyData, summarizeData, type AuditFilters } from './audit-model';
import { AUDIT_TRAIL_QUERY, EVENT_LOGS_QUERY, VERIFY_AUDIT_CHAIN_QUERY } from './audit.graphql';

const PAGE_SIZE = 50;

/** The audit trail of every log (newest first, filtered) and each log's hash chain, recomputed. */
export function AuditPage({ route }: { route: Route }) {
  const filters = filtersFromParams(route.params);
  return (
    <Page title="Audit trail">
      <h2>Chain verification</h2>
      <Chains />
      <h2>Events</h2>
      <FilterForm key={JSON.stringify(filters)} filters={filters} />
      <Trail filters={filters} />
    </Page>
  );
}

function Chains() {
  const { api } = useSession();
  const logs = useLoad(() => api.graphql<EventLogsQuery>(EVENT_LOGS_QUERY).then((d) => d.eventLogs), [api]);
  const [round, setRound] = useState(0);
  return (
    <Loading state={logs}>
      {(rows) => (
        <>
          <Table
            caption="Every event log, its head and its hash chain"
            rows={rows}
            rowKey={(r) => r.log}
            empty="No event log yet."
            columns={[
              { header: 'Log', cell: (r) => <code>{r.log}</code> },
              { header: 'Head position', cell: (r) => String(r.position) },
              { header: 'Chain', cell: (r) => <ChainCell key={`${r.log}:${round}`} log={r.log} /> },
            ]}
          />
          <button type="button" onClick={() => setRound((n) => n + 1)}>
            Verify again
          </button>
        </>
      )}
    </Loading>
  );
}

function ChainCell({ log }: { log: string }) {
  const { api } = useSession();
  const result = useLoad(
    () => api.graphql<VerifyAuditChainQuery, VerifyAuditChainQueryVariables>(VERIFY_AUDIT_CHAIN_QUERY, { log }).then((d) => d.verifyAuditChain),
    [api, log],
  );
  return (
    <Loading state={result}>
      {(v) => (
        <span data-testid={`chain-${log}`} data-ok={String(v.ok)}>
          <Badge tone={v.ok ? 'ok' : 'bad'}>{v.ok ? 'ok' : 'broken'}</Badge> {chainText(v)}
          {v.broken.length > 1 ? (
            <details>
              <summary>Every break</summary>
              <ul>
                {v.broken.map((b) => (
                  <li key={b.position}>
                    position {b.position}: {b.reason}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </span>
      )}
    </Loading>
  );
}

const FIELDS: { key: keyof AuditFilters; label: string; placeholder: string }[] = [
  { key: 'type', label: 'Event type', placeholder: 'ConsentWithdrawn' },
  { key: 'stream', label: 'Stream id', placeholder: 'subject-<id>' },
  { key: 'actor', label: 'Actor (principal id)', placeholder: 'prn-…' },
  { key: 'from', label: 'From (UTC, inclusive)', placeholder: '2026-12-04T20:00:00Z' },
  { key: 'to', label: 'To (UTC, exclusive)', placeholder: '2026-12-05' },
];

function FilterForm({ filters }: { filters: AuditFilters }) {
  const [form, setForm] = useState<AuditFilters>(filters);
  const [errors, setErrors] = useState<Partial<Record<keyof AuditFilters, string>>>({});
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = checkFilters(form);
    if (checked.errors) return setErrors(checked.errors);
    setErrors({});
    navigate(href('audit', { ...checked.filters }));
  };
  return (
    <form className="row controls" onSubmit={submit} aria-label="Filter the audit trail">
      {FIELDS.map((f) => (
        <div key={f.key}>
          <label htmlFor={`audit-${f.key}`}>{f.label}</label>
          <input
            id={`audit-${f.key}`}
            value={form[f.key] ?? ''}
            placeholder={f.placeholder}
            aria-invalid={errors[f.key] ? true : undefined}
            aria-describedby={errors[f.key] ? `audit-${f.key}-error` : undefined}
            onChange={(e) => setForm({ ...form, [f.key]: e.target.value })}
          />
          {errors[f.key] ? (
            <div id={`audit-${f.key}-error`} role="alert" className="muted">
              {errors[f.key]}
            </div>
          ) : null}
        </div>
      ))}
      <div className="controls-submit">
        <button type="submit">Filter</button>{' '}
        <button type="button" onClick={() => navigate(href('audit'))}>
          Clear
        </button>
      </div>
    </form>
  );
}

type TrailEvent = AuditTrailQuery['auditTrail']['edges'][number]['node'];

function Trail({ filters }: { filters: AuditFilters }) {
  const { api } = useSession();
  const key = JSON.stringify(filters);
  const ask = (after?: string) =>
    api.graphql<AuditTrailQuery, AuditTrailQueryVariables>(AUDIT_TRAIL_QUERY, { first: PAGE_SIZE, after, ...filters }).then((d) => d.auditTrail);
  const first = useLoad(() => ask(), [api, key]);
  const [more, setMore] = useState<{ events: TrailEvent[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<Error | null>(null);
  useEffect(() => {
    setMore(null);
    setMoreError(null);
  }, [key]);
  return (
    <Loading state={first}>
      {(page) => {
        const events = [...page.edges.map((e) => e.node), ...(more?.events ?? [])];
        const next = more ?? { endCursor: page.pageInfo.endCursor, hasNextPage: page.pageInfo.hasNextPage };
        const loadMore = async () => {
          setLoadingMore(true);
          setMoreError(null);
          try {
            const p = await ask(next.endCursor ?? undefined);
            setMore({ events: [...(more?.events ?? []), ...p.edges.map((e) => e.node)], endCursor: p.pageInfo.endCursor, hasNextPage: p.pageInfo.hasNextPage });
          } catch (err) {
            setMoreError(err as Error);
          } finally {
            setLoadingMore(false);
          }
        };
        return (
          <div data-testid="audit-trail">
            <p className="muted" role="status">
              {events.length} event{events.length === 1 ? '' : 's'} shown{next.hasNextPage ? ', more to load' : ''}, newest first.
            </p>
            <Table
              caption="Audit trail"
              rows={events}
              rowKey={(e) => e.eventId}
              empty="No event matches these filters."
              columns={[
                { header: 'When', cell: (e) => <When at={e.occurredAt} /> },
                { header: 'Log', cell: (e) => `${e.log} #${e.position}` },
                { header: 'Type', cell: (e) => <a href={href('audit', { ...filters, type: e.type })}>{e.type}</a> },
                {
                  header: 'Stream',
                  cell: (e) => (
                    <>
                      <a href={href('audit', { ...filters, stream: e.streamId })}>{e.streamId}</a> <span className="muted">v{e.streamVersion}</span>
                    </>
                  ),
                },
                {
                  header: 'Actor',
                  cell: (e) => (
                    <>
                      <a href={href('audit', { ...filters, actor: e.actorId })} title={e.actorId}>
                        {e.actorId.length > 16 ? `${e.actorId.slice(0, 14)}…` : e.actorId}
                      </a>{' '}
                      <span className="muted">({e.actorRole})</span>
                    </>
                  ),
                },
                {
                  header: 'Data',
                  cell: (e) => (
                    <details>
                      <summary>{summarizeData(e.data, 100)}</summary>
                      <pre className="json">{prettyData(e.data)}</pre>
                      <p className="muted">
                        hash <Short id={e.hash} />, previous <Short id={e.prevHash} />, correlation <Short id={e.correlationId} />
                      </p>
                    </details>
                  ),
                },
              ]}
            />
            {moreError ? <ErrorNote error={moreError} /> : null}
            {next.hasNextPage ? (
              <button type="button" onClick={loadMore} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : `Next ${PAGE_SIZE} events`}
              </button>
            ) : null}
          </div>
        );
      }}
    </Loading>
  );
}
