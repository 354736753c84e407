import { aliasesOf, emptyGraph, flagsOf, groupId, mergeSubgraph, nodesWithin, openGroup, visibleGraph, type GraphNode } from './lineage-graph-model';
import { layoutGraph, NODE_WIDTH } from './lineage-layout';

const node = (id: string, states: Record<string, unknown> = {}): GraphNode => ({
  id,
  type: id.split(':')[0],
  class: 'entity',
  label: id,
  attrs: '{}',
  states: JSON.stringify(states),
  validFrom: '2026-01-01T00:00:00.000Z',
});
// PROV edges point from the effect to its cause.
const used = (effect: string, cause: string) => ({ from: effect, to: cause, type: 'used' });

/** A model version trained on a snapshot of `n` curated assets, one of them flagged. */
function modelOver(n: number) {
  const assets = Array.from({ length: n }, (_, i) => node(`curated-asset:${i}`, i === 0 ? { 'flag:consent-withdrawn': {} } : {}));
  const root = 'model-version:m';
  let g = emptyGraph(root);
  g = mergeSubgraph(
    g,
    { nodes: [node(root, { 'alias:champion': {}, 'flag:consent-withdrawn': {} }), node('snapshot:s')], edges: [used(root, 'snapshot:s')] },
    root,
  );
  g = mergeSubgraph(g, { nodes: [node('snapshot:s'), ...assets], edges: assets.map((a) => used('snapshot:s', a.id)) }, 'snapshot:s');
  return g;
}

describe('lineage graph model', () => {
  it('reads flags and aliases from a node states, and survives states that are not JSON', () => {
    const n = node('model-version:x', { 'alias:champion': {}, 'flag:consent-withdrawn': { subjects: 1 }, status: 'ready' });
    expect(flagsOf(n)).toEqual(['consent-withdrawn']);
    expect(aliasesOf(n)).toEqual(['champion']);
    expect(flagsOf({ ...n, states: 'not json' })).toEqual([]);
  });

  it('collapses a fan-out larger than the limit into one group with its count and flagged members', () => {
    const v = visibleGraph(modelOver(24), 6);
    expect(v.nodes.map((n) => n.id).sort()).toEqual(['model-version:m', 'snapshot:s']);
    expect(v.groups).toEqual([
      { id: groupId('snapshot:s', 'up', 'curated-asset'), parent: 'snapshot:s', direction: 'up', type: 'curated-asset', count: 24, flagged: 1 },
    ]);
    // Causes draw to the left of their effects: the group feeds the snapshot, the snapshot the model.
    expect(v.links).toEqual(
      expect.arrayContaining([
        { cause: 'snapshot:s', effect: 'model-version:m', type: 'used' },
        { cause: v.groups[0].id, effect: 'snapshot:s', type: 'group' },
      ]),
    );
    expect(v.links).toHaveLength(2);
  });

  it('shows every member of a small fan-out, of an opened group, and a member the user expanded', () => {
    expect(visibleGraph(modelOver(6), 6).groups).toEqual([]);
    const g = modelOver(24);
    const opened = visibleGraph(openGroup(g, groupId('snapshot:s', 'up', 'curated-asset')), 6);
    expect(opened.groups).toEqual([]);
    expect(opened.nodes).toHaveLength(26);
    expect(opened.links).toHaveLength(25);
    const walked = visibleGraph(
      mergeSubgraph(g, { nodes: [node('curated-asset:3'), node('asset:3')], edges: [used('curated-asset:3', 'asset:3')] }, 'curated-asset:3'),
      6,
    );
    expect(walked.groups[0].count).toBe(23);
    expect(walked.nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['curated-asset:3', 'asset:3']));
  });

  it('ignores edges to nodes it was not given, and merging the same answer twice changes nothing', () => {
    const g = mergeSubgraph(emptyGraph('a:1'), { nodes: [node('a:1')], edges: [used('a:1', 'b:missing')] }, 'a:1');
    expect(g.edges.size).toBe(0);
    const twice = mergeSubgraph(modelOver(3), { nodes: [node('snapshot:s')], edges: [used('model-version:m', 'snapshot:s')] }, 'snapshot:s');
    expect(visibleGraph(twice)).toEqual(visibleGraph(modelOver(3)));
  });

  it('finds the nodes within some hops of the root, on the side asked', () => {
    // m <- s <- c <- a (effect to cause), and d derived from m.
    const edges = [used('m', 's'), used('s', 'c'), used('c', 'a'), used('d', 'm')];
    expect(nodesWithin(edges, 'm', 'UPSTREAM', 2).sort()).toEqual(['c', 'm', 's']);
    expect(nodesWithin(edges, 'm', 'DOWNSTREAM', 2).sort()).toEqual(['d', 'm']);
    expect(nodesWithin(edges, 'm', 'BOTH', 1).sort()).toEqual(['d', 'm', 's']);
    expect(nodesWithin(edges, 'm', 'UPSTREAM', 0)).toEqual(['m']);
  });

  it('lays causes out to the left of their effects, without overlaps', () => {
    const layout = layoutGraph(visibleGraph(modelOver(3), 6));
    const x = (id: string) => layout.nodes.get(id)!.x;
    expect(x('curated-asset:0')).toBeLessThan(x('snapshot:s'));
    expect(x('snapshot:s')).toBeLessThan(x('model-version:m'));
    const column = ['curated-asset:0', 'curated-asset:1', 'curated-asset:2'].map((id) => layout.nodes.get(id)!);
    expect(new Set(column.map((p) => p.x)).size).toBe(1);
    expect(new Set(column.map((p) => p.y)).size).toBe(3);
    expect(layout.width).toBeGreaterThanOrEqual(3 * NODE_WIDTH);
    for (const l of layout.links) expect(l.points.length).toBeGreaterThanOrEqual(2);
  });
});
