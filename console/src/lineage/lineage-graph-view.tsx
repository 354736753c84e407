import { useMemo, type KeyboardEvent } from 'react';
import { aliasesOf, flagsOf, type GraphNode, type GraphState, type GroupNode } from './lineage-graph-model';
import { visibleGraph } from './lineage-graph-model';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from './lineage-layout';

interface Props {
  state: GraphState;
  selected?: string;
  onSelect(id: string): void;
  onExpand(id: string): void;
  onOpenGroup(id: string): void;
  /** Fan-outs larger than this are drawn as one group with a count. */
  limit?: number;
}

const CLASS_FILL: Record<string, string> = { entity: '#eaf1fb', activity: '#fdf3e1', agent: '#eef7ee' };

/**
 * The provenance graph as SVG: causes left, effects right. Every node is a focusable button:
 * Enter or a click selects it, Space or a double click expands it one hop (a group: shows its
 * members). Flagged nodes are drawn red with a flag mark.
 */
export function LineageGraphView({ state, selected, onSelect, onExpand, onOpenGroup, limit = 6 }: Props) {
  const visible = useMemo(() => visibleGraph(state, limit), [state, limit]);
  const layout = useMemo(() => layoutGraph(visible), [visible]);
  const key = (e: KeyboardEvent, select: () => void, expand: () => void) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      select();
    } else if (e.key === ' ') {
      e.preventDefault();
      expand();
    }
  };
  return (
    <div className="graph-scroll" data-testid="lineage-graph">
      <svg
        width={Math.max(layout.width, 300)}
        height={Math.max(layout.height, 120)}
        role="group"
        aria-label={`Provenance graph: ${visible.nodes.length} nodes, ${visible.groups.length} collapsed groups`}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8699" />
          </marker>
        </defs>
        {layout.links.map((l, i) => (
          <path
            key={i}
            className="graph-link"
            d={l.points.map((p, j) => `${j ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ')}
            fill="none"
            stroke="#9aa5b5"
            strokeDasharray={l.type === 'group' ? '4 3' : undefined}
            markerEnd="url(#arrow)"
          >
            <title>{l.type}</title>
          </path>
        ))}
        {visible.nodes.map((n) => {
          const p = layout.nodes.get(n.id)!;
          return (
            <NodeBox
              key={n.id}
              node={n}
              x={p.x}
              y={p.y}
              root={n.id === state.root}
              selected={n.id === selected}
              expanded={state.expanded.has(n.id)}
              onClick={() => onSelect(n.id)}
              onDoubleClick={() => onExpand(n.id)}
              onKeyDown={(e) =>
                key(
                  e,
                  () => onSelect(n.id),
                  () => onExpand(n.id),
                )
              }
            />
          );
        })}
        {visible.groups.map((g) => {
          const p = layout.nodes.get(g.id)!;
          return (
            <GroupBox
              key={g.id}
              group={g}
              x={p.x}
              y={p.y}
              onOpen={() => onOpenGroup(g.id)}
              onKeyDown={(e) =>
                key(
                  e,
                  () => onOpenGroup(g.id),
                  () => onOpenGroup(g.id),
                )
              }
            />
          );
        })}
      </svg>
    </div>
  );
}

function NodeBox(props: {
  node: GraphNode;
  x: number;
  y: number;
  root: boolean;
  selected: boolean;
  expanded: boolean;
  onClick(): void;
  onDoubleClick(): void;
  onKeyDown(e: KeyboardEvent): void;
}) {
  const { node, x, y } = props;
  const flags = flagsOf(node);
  const aliases = aliasesOf(node);
  const label = `${node.type}: ${node.label}${aliases.length ? `, alias ${aliases.join(', ')}` : ''}${flags.length ? `, flagged ${flags.join(', ')}` : ''}${props.root ? ', the root' : ''}`;
  return (
    <g
      className={`graph-node${flags.length ? ' flagged' : ''}${props.selected ? ' selected' : ''}`}
      data-node-id={node.id}
      data-flagged={flags.length ? 'true' : undefined}
      transform={`translate(${x - NODE_WIDTH / 2}, ${y - NODE_HEIGHT / 2})`}
      role="button"
      tabIndex={0}
      aria-pressed={props.selected}
      aria-label={label}
      onClick={props.onClick}
      onDoubleClick={props.onDoubleClick}
      onKeyDown={props.onKeyDown}
    >
      <title>{label}</title>
      <rect
        width={NODE_WIDTH}
        height={NODE_HEIGHT}
        rx={node.class === 'activity' ? 14 : 4}
        fill={CLASS_FILL[node.class] ?? '#fff'}
        stroke={flags.length ? '#b3261e' : props.selected ? '#1f5fbf' : '#8b97a8'}
        strokeWidth={flags.length || props.selected || props.root ? 2.5 : 1}
      />
      <text x={8} y={17} fontSize={11} fill="#5b6575">
        {flags.length ? '⚑ ' : ''}
        {node.type}
        {aliases.length ? ` · ${aliases.join(', ')}` : ''}
      </text>
      <text x={8} y={35} fontSize={13} fill="#1d2430">
        {node.label.length > 26 ? `${node.label.slice(0, 25)}…` : node.label}
      </text>
      {props.expanded ? null : (
        <text x={NODE_WIDTH - 14} y={17} fontSize={12} fill="#1f5fbf" aria-hidden="true">
          +
        </text>
      )}
    </g>
  );
}

function GroupBox({ group, x, y, onOpen, onKeyDown }: { group: GroupNode; x: number; y: number; onOpen(): void; onKeyDown(e: KeyboardEvent): void }) {
  const label = `${group.count} ${group.type} nodes${group.flagged ? `, ${group.flagged} flagged` : ''}: show all`;
  return (
    <g
      className={`graph-group${group.flagged ? ' flagged' : ''}`}
      data-group-id={group.id}
      transform={`translate(${x - NODE_WIDTH / 2}, ${y - NODE_HEIGHT / 2})`}
      role="button"
      tabIndex={0}
      aria-label={label}
      onClick={onOpen}
      onKeyDown={onKeyDown}
    >
      <title>{label}</title>
      <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={4} fill="#f4f5f7" stroke={group.flagged ? '#b3261e' : '#8b97a8'} strokeDasharray="5 3" />
      <text x={8} y={19} fontSize={13} fill="#1d2430">
        {group.count} × {group.type}
      </text>
      <text x={8} y={36} fontSize={11} fill={group.flagged ? '#b3261e' : '#5b6575'}>
        {group.flagged ? `⚑ ${group.flagged} flagged · ` : ''}show all
      </text>
    </g>
  );
}
