import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type Direction = 'UPSTREAM' | 'DOWNSTREAM' | 'BOTH';

export interface GraphNode {
  id: string;
  type: string;
  class: string;
  label: string;
  attrs: Record<string, unknown>;
  /** Facts that change over time, as of the moment asked: key -> value (a withdrawn consent's purposes, a version's flag, an alias held). */
  states: Record<string, unknown>;
  validFrom: string;
  log: string;
  position: number;
}

export interface GraphEdge {
  from: string;
  type: string;
  to: string;
  attrs: Record<string, unknown>;
  validFrom: string;
  log: string;
  position: number;
}

export interface Subgraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The walk stopped at the node limit before it reached the depth asked for. */
  truncated: boolean;
}

interface NodeRow {
  id: string;
  type: string;
  class: string;
  label: string;
  attrs: Record<string, unknown>;
  valid_from: Date;
  log: string;
  position: string;
}

interface EdgeRow {
  from_id: string;
  type: string;
  to_id: string;
  attrs: Record<string, unknown>;
  valid_from: Date;
  log: string;
  position: string;
}

/**
 * Reads of the lineage graph as of a moment: every node, edge and state with `valid_from` after
 * it is left out. A walk is one recursive query per direction (no statement per node), bounded by
 * depth and by a node limit.
 */
@Injectable()
export class LineageQueries {
  constructor(private readonly dataSource: DataSource) {}

  async nodes(ids: string[], asOf: Date): Promise<GraphNode[]> {
    if (ids.length === 0) return [];
    const rows: NodeRow[] = await this.dataSource.query('SELECT * FROM lineage_nodes WHERE id = ANY($1::text[]) AND valid_from <= $2 ORDER BY id', [ids, asOf]);
    const states: { node_id: string; key: string; value: unknown }[] = await this.dataSource.query(
      `SELECT DISTINCT ON (node_id, key) node_id, key, value FROM lineage_node_states
       WHERE node_id = ANY($1::text[]) AND valid_from <= $2 ORDER BY node_id, key, valid_from DESC, position DESC`,
      [rows.map((r) => r.id), asOf],
    );
    const byNode = new Map<string, Record<string, unknown>>();
    for (const s of states) {
      if (s.value === null) continue;
      byNode.set(s.node_id, { ...(byNode.get(s.node_id) ?? {}), [s.key]: s.value });
    }
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      class: r.class,
      label: r.label,
      attrs: r.attrs,
      states: byNode.get(r.id) ?? {},
      validFrom: r.valid_from.toISOString(),
      log: r.log,
      position: Number(r.position),
    }));
  }

  async walk(start: string, direction: Direction, depth: number, asOf: Date, limit: number): Promise<Subgraph> {
    const reached = new Set<string>([start]);
    let truncated = false;
    for (const up of direction === 'BOTH' ? [true, false] : [direction === 'UPSTREAM']) {
      const rows: { id: string }[] = await this.dataSource.query(
        `WITH RECURSIVE walk(id, depth) AS (
           SELECT $1::text, 0
           UNION
           SELECT ${up ? 'e.to_id' : 'e.from_id'}, w.depth + 1 FROM walk w
             JOIN lineage_edges e ON ${up ? 'e.from_id' : 'e.to_id'} = w.id AND e.valid_from <= $3
            WHERE w.depth < $2)
         SELECT DISTINCT id FROM walk LIMIT $4`,
        [start, depth, asOf, limit + 1],
      );
      for (const r of rows) reached.add(r.id);
      if (rows.length > limit) truncated = true;
    }
    const ids = [...reached].slice(0, limit);
    const edges: EdgeRow[] = await this.dataSource.query(
      `SELECT * FROM lineage_edges WHERE from_id = ANY($1::text[]) AND to_id = ANY($1::text[]) AND valid_from <= $2 ORDER BY from_id, type, to_id`,
      [ids, asOf],
    );
    return {
      nodes: await this.nodes(ids, asOf),
      edges: edges.map((e) => ({
        from: e.from_id,
        type: e.type,
        to: e.to_id,
        attrs: e.attrs,
        validFrom: e.valid_from.toISOString(),
        log: e.log,
        position: Number(e.position),
      })),
      truncated: truncated || reached.size > limit,
    };
  }
}
