import type { ReactNode } from 'react';
import { ApiError } from '../api/api-client';
import type { Loaded } from './use-load';

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title">{title}</h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A role without access sees why, not a broken page. */
export function ErrorNote({ error }: { error: Error }) {
  if (error instanceof ApiError && error.forbidden)
    return (
      <div role="alert" className="note note-forbidden">
        <strong>Not available to your roles.</strong> {error.message}
      </div>
    );
  if (error instanceof ApiError && error.status === 404)
    return (
      <div role="alert" className="note note-error">
        <strong>Not found.</strong> {error.message}
      </div>
    );
  return (
    <div role="alert" className="note note-error">
      <strong>{error instanceof ApiError ? error.code : 'Error'}:</strong> {error.message}
    </div>
  );
}

/** Shows the loading state or the error of a load, else its children with the data. */
export function Loading<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ReactNode }) {
  if (state.error && state.data === undefined) return <ErrorNote error={state.error} />;
  if (state.data === undefined)
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}

export function KeyValues({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k} className="kv-row">
          <dt>{k}</dt>
          <dd>{v ?? <span className="muted">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

export function Table<T>({
  caption,
  rows,
  columns,
  rowKey,
  empty,
}: {
  caption: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  empty?: string;
}) {
  if (rows.length === 0) return <p className="muted">{empty ?? `No ${caption.toLowerCase()}.`}</p>;
  return (
    <table className="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header} scope="col">
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={rowKey(r)}>
            {columns.map((c) => (
              <td key={c.header}>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Badge({ tone, children }: { tone?: 'ok' | 'warn' | 'bad' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${tone ?? 'info'}`}>{children}</span>;
}

export function When({ at }: { at?: string | null }) {
  if (!at) return <span className="muted">—</span>;
  return <time dateTime={at}>{at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>;
}

export function Short({ id }: { id: string }) {
  return (
    <code title={id} className="id">
      {id.length > 14 ? `${id.slice(0, 12)}…` : id}
    </code>
  );
}
