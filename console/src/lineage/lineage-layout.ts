import dagre from '@dagrejs/dagre';
import type { VisibleGraph } from './lineage-graph-model';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 46;

export interface Placed {
  id: string;
  x: number;
  y: number;
}

export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, Placed>;
  links: { cause: string; effect: string; type: string; points: { x: number; y: number }[] }[];
}

/** Causes to the left, effects to the right (a layered Sugiyama layout by dagre). */
export function layoutGraph(graph: VisibleGraph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const gr of graph.groups) g.setNode(gr.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  graph.links.forEach((l, i) => g.setEdge(l.cause, l.effect, {}, `${l.type}:${i}`));
  dagre.layout(g);
  const nodes = new Map<string, Placed>();
  for (const id of g.nodes()) {
    const p = g.node(id);
    nodes.set(id, { id, x: p.x, y: p.y });
  }
  const links = graph.links.map((l, i) => ({
    ...l,
    points: (g.edge(l.cause, l.effect, `${l.type}:${i}`)?.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
  }));
  const label = g.graph();
  return { width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0), nodes, links };
}
