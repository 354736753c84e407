import { useCallback, useEffect, useState } from 'react';
import type { LineageDirection, LineageQuery, LineageQueryVariables } from '../api/graphql.generated';
import { useSession } from '../app/session';
import { href } from '../app/router';
import { ErrorNote, KeyValues, When } from '../ui/components';
import { prettyJson } from '../ui/json-text';
import { LineageGraphView } from './lineage-graph-view';
import { LINEAGE_QUERY } from './lineage.graphql';
import { aliasesOf, emptyGraph, flagsOf, mergeSubgraph, nodesWithin, openGroup, type GraphState } from './lineage-graph-model';

interface Props {
  root: string;
  /** The first load: which side of the root, and how many hops. */
  direction: LineageDirection;
  depth: number;
  asOf?: string;
}

/**
 * A provenance graph the user grows hop by hop: the first answer, then one hop both ways around
 * each node they expand; a new root or "as of" starts over.
 */
export function LineageExplorer({ root, direction, depth, asOf }: Props) {
  const { api } = useSession();
  const [graph, setGraph] = useState<GraphState>(() => emptyGraph(root));
  const [selected, setSelected] = useState<string | undefined>(root);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(true);
  const [truncated, setTruncated] = useState(false);

  const load = useCallback(
    (id: string, dir: LineageDirection, hops: number) =>
      api.graphql<LineageQuery, LineageQueryVariables>(LINEAGE_QUERY, { id, direction: dir, depth: hops, asOf: asOf || null }).then((d) => d.lineage),
    [api, asOf],
  );

  useEffect(() => {
    let current = true;
    setBusy(true);
    setError(null);
    setGraph(emptyGraph(root));
    setSelected(root);
    load(root, direction, depth).then(
      (sub) => {
        if (!current) return;
        // Every node nearer than the last hop had its neighbours (on that side) loaded.
        let g = mergeSubgraph(emptyGraph(root), sub, root);
        for (const id of nodesWithin(sub.edges, root, direction, depth - 1)) g = { ...g, expanded: new Set(g.expanded).add(id) };
        setGraph(g);
        setTruncated(sub.truncated);
        setBusy(false);
      },
      (err: Error) => {
        if (!current) return;
        setError(err);
        setBusy(false);
      },
    );
    return () => {
      current = false;
    };
  }, [root, direction, depth, load]);

  const expand = (id: string) => {
    setBusy(true);
    load(id, 'BOTH', 1).then(
      (sub) => {
        setGraph((g) => mergeSubgraph(g, sub, id));
        setTruncated((t) => t || sub.truncated);
        setBusy(false);
      },
      (err: Error) => {
        setError(err);
        setBusy(false);
      },
    );
  };

  const node = selected ? graph.nodes.get(selected) : undefined;
  if (error && graph.nodes.size === 0) return <ErrorNote error={error} />;
  return (
    <div className="lineage">
      <p className="muted" role="status" aria-live="polite">
        {busy ? 'Loading…' : `${graph.nodes.size} nodes, ${graph.edges.size} relations${truncated ? ' (the answer was cut at 5000 nodes)' : ''}. `}
        Select a node (click or Enter), expand it one hop (double click or Space).
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {graph.nodes.size === 0 && !busy ? (
        <div role="alert" className="note note-error">
          <strong>No such node{asOf ? ' at that time' : ''}.</strong> Nothing is recorded for {root}.
        </div>
      ) : (
        <div className="lineage-panes">
          <div className="graph-pane">
            <LineageGraphView
              state={graph}
              selected={selected}
              onSelect={setSelected}
              onExpand={expand}
              onOpenGroup={(id) => setGraph((g) => openGroup(g, id))}
            />
          </div>
          {node ? (
            <aside className="card node-details" aria-label="Selected node">
              <h2>{node.label}</h2>
              <KeyValues
                rows={[
                  ['type', `${node.type} (${node.class})`],
                  ['id', <code key="id">{node.id}</code>],
                  ['since', <When key="since" at={node.validFrom} />],
                  ['aliases', aliasesOf(node).join(', ') || null],
                  [
                    'flags',
                    flagsOf(node).length ? (
                      <span key="flags" className="badge badge-bad">
                        ⚑ {flagsOf(node).join(', ')}
                      </span>
                    ) : null,
                  ],
                ]}
              />
              <div className="row">
                <button type="button" onClick={() => expand(node.id)} disabled={busy}>
                  Expand one hop
                </button>
                {node.id !== root ? <a href={href('lineage', node.id, { asOf })}>Open as root</a> : null}
              </div>
              <details>
                <summary>Attributes and states</summary>
                <pre className="json">{prettyJson(node.attrs)}</pre>
                <pre className="json">{prettyJson(node.states)}</pre>
              </details>
            </aside>
          ) : null}
        </div>
      )}
    </div>
  );
}
