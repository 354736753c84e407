// The lineage view's graph as the user grows it, hop by hop, and what of it is drawn: pure
// functions (no DOM, no React), unit-tested in node.

export interface GraphNode {
  id: string;
  type: string;
  class: string;
  label: string;
  attrs: string;
  states: string;
  validFrom: string;
}

/** A PROV relation, from the effect to its cause (as the API gives it). */
export interface GraphEdge {
  from: string;
  to: string;
  type: string;
}

export interface Subgraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphState {
  root: string;
  nodes: Map<string, GraphNode>;
  edges: Map<string, GraphEdge>;
  /** Nodes whose neighbours have been loaded (the root's at once; others when expanded). */
  expanded: Set<string>;
  /** Groups the user opened to see every member (group ids, see groupId). */
  openGroups: Set<string>;
}

export type Direction = 'up' | 'down';

/** A collapsed fan-out: `count` neighbours of one type on one side of `parent`. */
export interface GroupNode {
  id: string;
  parent: string;
  direction: Direction;
  type: string;
  count: number;
  /** Members that carry a flag (a withdrawn consent reached them): the group is marked too. */
  flagged: number;
}

export interface VisibleGraph {
  nodes: GraphNode[];
  groups: GroupNode[];
  /** Drawn from cause to effect (the layout's left to right). */
  links: { cause: string; effect: string; type: string }[];
}

const edgeKey = (e: GraphEdge) => `${e.from}\u0000${e.to}\u0000${e.type}`;

export function emptyGraph(root: string): GraphState {
  return { root, nodes: new Map(), edges: new Map(), expanded: new Set(), openGroups: new Set() };
}

/** Adds what the API answered for `around` (its neighbourhood) to the graph; `around` is then expanded. */
export function mergeSubgraph(state: GraphState, sub: Subgraph, around: string): GraphState {
  const nodes = new Map(state.nodes);
  for (const n of sub.nodes) nodes.set(n.id, n);
  const edges = new Map(state.edges);
  for (const e of sub.edges) if (nodes.has(e.from) && nodes.has(e.to)) edges.set(edgeKey(e), e);
  return { ...state, nodes, edges, expanded: new Set(state.expanded).add(around) };
}

export function openGroup(state: GraphState, groupId: string): GraphState {
  return { ...state, openGroups: new Set(state.openGroups).add(groupId) };
}

export function groupId(parent: string, direction: Direction, type: string): string {
  return `group:${direction}:${type}:${parent}`;
}

function parseStates(node: GraphNode): Record<string, unknown> {
  try {
    const v = JSON.parse(node.states) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The flags a node carries now (`flag:consent-withdrawn`, ...), without the prefix. */
export function flagsOf(node: GraphNode): string[] {
  return Object.keys(parseStates(node))
    .filter((k) => k.startsWith('flag:'))
    .map((k) => k.slice(5));
}

/** The aliases a model version holds (`champion`, ...). */
export function aliasesOf(node: GraphNode): string[] {
  return Object.keys(parseStates(node))
    .filter((k) => k.startsWith('alias:'))
    .map((k) => k.slice(6));
}

/**
 * What is drawn: every loaded node, except that where an expanded node has more than `limit`
 * neighbours of one type on one side, those neighbours become one group node with a count
 * (unless the user opened that group, or a member is the root or itself expanded: what the user
 * walked through stays visible). A hidden node's other edges are hidden with it.
 */
export function visibleGraph(state: GraphState, limit = 6): VisibleGraph {
  const hidden = new Set<string>();
  const groups: GroupNode[] = [];
  const neighbours = (id: string, direction: Direction) =>
    [...state.edges.values()].filter((e) => (direction === 'up' ? e.from === id : e.to === id)).map((e) => (direction === 'up' ? e.to : e.from));
  // Parents in a stable order: the root first, then in the order they were expanded.
  const parents = [state.root, ...[...state.expanded].filter((id) => id !== state.root)].filter((id) => state.nodes.has(id));
  const claimed = new Set<string>();
  for (const parent of parents) {
    if (hidden.has(parent)) continue;
    for (const direction of ['up', 'down'] as Direction[]) {
      const byType = new Map<string, string[]>();
      for (const id of new Set(neighbours(parent, direction))) {
        const n = state.nodes.get(id);
        if (!n) continue;
        byType.set(n.type, [...(byType.get(n.type) ?? []), id]);
      }
      for (const [type, members] of byType) {
        const gid = groupId(parent, direction, type);
        if (members.length <= limit || state.openGroups.has(gid)) continue;
        const collapsible = members.filter((id) => id !== state.root && !state.expanded.has(id) && !claimed.has(id));
        if (collapsible.length <= 1) continue;
        for (const id of collapsible) {
          hidden.add(id);
          claimed.add(id);
        }
        groups.push({
          id: gid,
          parent,
          direction,
          type,
          count: collapsible.length,
          flagged: collapsible.filter((id) => flagsOf(state.nodes.get(id)!).length > 0).length,
        });
      }
    }
  }
  const nodes = [...state.nodes.values()].filter((n) => !hidden.has(n.id));
  const links: VisibleGraph['links'] = [];
  for (const e of state.edges.values()) if (!hidden.has(e.from) && !hidden.has(e.to)) links.push({ cause: e.to, effect: e.from, type: e.type });
  for (const g of groups)
    links.push(g.direction === 'up' ? { cause: g.id, effect: g.parent, type: 'group' } : { cause: g.parent, effect: g.id, type: 'group' });
  return { nodes, groups, links };
}

/** Nodes at most `hops` relations from the root on the loaded side(s). */
export function nodesWithin(edges: { from: string; to: string }[], root: string, direction: 'UPSTREAM' | 'DOWNSTREAM' | 'BOTH', hops: number): string[] {
  const seen = new Set([root]);
  let frontier = [root];
  for (let i = 0; i < hops; i++) {
    const next: string[] = [];
    for (const e of edges) {
      const pairs: [string, string][] = [];
      if (direction !== 'DOWNSTREAM') pairs.push([e.from, e.to]);
      if (direction !== 'UPSTREAM') pairs.push([e.to, e.from]);
      for (const [a, b] of pairs)
        if (frontier.includes(a) && !seen.has(b)) {
          seen.add(b);
          next.push(b);
        }
    }
    frontier = next;
  }
  return [...seen];
}
