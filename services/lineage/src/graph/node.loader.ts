import DataLoader from 'dataloader';
import type { GraphNode, LineageQueries } from './lineage.queries';

const SEPARATOR = '\u0000';

/**
 * Nodes by id and moment, batched per GraphQL request: every `node(id)` (and every walk's start)
 * that one request asks for in the same tick is read with one statement per distinct moment,
 * however many aliases the query uses.
 */
export function nodeLoader(queries: LineageQueries): DataLoader<string, GraphNode | null> {
  return new DataLoader(async (keys: readonly string[]) => {
    const byMoment = new Map<string, string[]>();
    for (const key of keys) {
      const [at, id] = key.split(SEPARATOR);
      byMoment.set(at, [...(byMoment.get(at) ?? []), id]);
    }
    const found = new Map<string, GraphNode>();
    for (const [at, ids] of byMoment) for (const n of await queries.nodes([...new Set(ids)], new Date(at))) found.set(`${at}${SEPARATOR}${n.id}`, n);
    return keys.map((k) => found.get(k) ?? null);
  });
}

export const nodeKey = (id: string, at: Date) => `${at.toISOString()}${SEPARATOR}${id}`;

/** The request's loader, made on first use and kept on the GraphQL context (one per request). */
export function nodesOfRequest(
  context: { lineageNodes?: DataLoader<string, GraphNode | null> },
  queries: LineageQueries,
): DataLoader<string, GraphNode | null> {
  context.lineageNodes ??= nodeLoader(queries);
  return context.lineageNodes;
}
