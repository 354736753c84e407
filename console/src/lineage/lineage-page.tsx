import { useState, type FormEvent } from 'react';
import type { LineageDirection } from '../api/graphql.generated';
import { href, navigate, type Route } from '../app/router';
import { Page } from '../ui/components';
import { LineageExplorer } from './lineage-explorer';

const DIRECTIONS: LineageDirection[] = ['BOTH', 'UPSTREAM', 'DOWNSTREAM'];

/** `#/lineage/<node id>?direction=&depth=&asOf=`: any node's provenance, as of a moment. */
export function LineagePage({ id, route }: { id?: string; route: Route }) {
  const direction = (DIRECTIONS as string[]).includes(route.params.get('direction') ?? '') ? (route.params.get('direction') as LineageDirection) : 'BOTH';
  const depth = Math.min(10, Math.max(1, Number(route.params.get('depth')) || 1));
  const asOf = route.params.get('asOf') ?? undefined;
  const go = (next: { id?: string; direction?: string; depth?: number; asOf?: string }) =>
    navigate(
      href('lineage', next.id ?? id ?? '', {
        direction: next.direction ?? direction,
        depth: String(next.depth ?? depth),
        asOf: 'asOf' in next ? next.asOf : asOf,
      }),
    );
  return (
    <Page title="Lineage">
      <LineageControls id={id} direction={direction} depth={depth} asOf={asOf} onChange={go} />
      {id ? (
        <LineageExplorer key={`${id}|${direction}|${depth}|${asOf ?? ''}`} root={id} direction={direction} depth={depth} asOf={asOf} />
      ) : (
        <p className="muted">Type a node id (e.g. model-version:&lt;uuid&gt;, subject:&lt;uuid&gt;) to see its provenance.</p>
      )}
    </Page>
  );
}

function LineageControls(props: {
  id?: string;
  direction: LineageDirection;
  depth: number;
  asOf?: string;
  onChange(next: { id?: string; direction?: string; depth?: number; asOf?: string }): void;
}) {
  const [id, setId] = useState(props.id ?? '');
  const [asOf, setAsOf] = useState(toLocalInput(props.asOf));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onChange({ id: id.trim(), asOf: fromLocalInput(asOf) });
  };
  return (
    <form className="controls row" onSubmit={submit} aria-label="Which graph">
      <div>
        <label htmlFor="lineage-node">Node id</label>
        <input id="lineage-node" size={48} value={id} onChange={(e) => setId(e.target.value)} placeholder="model-version:…" required />
      </div>
      <div>
        <label htmlFor="lineage-direction">Direction</label>
        <select id="lineage-direction" value={props.direction} onChange={(e) => props.onChange({ direction: e.target.value })}>
          <option value="BOTH">both</option>
          <option value="UPSTREAM">upstream (where it came from)</option>
          <option value="DOWNSTREAM">downstream (what came of it)</option>
        </select>
      </div>
      <div>
        <label htmlFor="lineage-depth">Hops</label>
        <input id="lineage-depth" type="number" min={1} max={10} value={props.depth} onChange={(e) => props.onChange({ depth: Number(e.target.value) })} />
      </div>
      <div>
        <label htmlFor="lineage-asof">As of (UTC)</label>
        <input id="lineage-asof" type="datetime-local" step={1} value={asOf} onChange={(e) => setAsOf(e.target.value)} />
        <button
          type="button"
          onClick={() => {
            setAsOf('');
            props.onChange({ asOf: undefined });
          }}
        >
          Now
        </button>
      </div>
      <div className="controls-submit">
        <button type="submit" className="primary">
          Show
        </button>
      </div>
    </form>
  );
}

/** datetime-local has no zone: the console reads and writes it as UTC, like the API's times. */
export function toLocalInput(iso?: string): string {
  return iso ? iso.replace(/\.\d+Z$|Z$/, '').slice(0, 19) : '';
}

export function fromLocalInput(local: string): string | undefined {
  if (!local) return undefined;
  const withSeconds = local.length === 16 ? `${local}:00` : local;
  return `${withSeconds}Z`;
}
