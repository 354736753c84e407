import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import type { GraphChange } from './graph-changes';
import { writeGraphChanges } from './graph.writer';

/** A QueryRunner that keeps each statement's parameters. */
function recorder() {
  const calls: { sql: string; params: unknown[] }[] = [];
  const tx = { query: async (sql: string, params: unknown[]) => void calls.push({ sql, params }) } as unknown as QueryRunner;
  return { tx, calls };
}

const envelope = { occurredAt: '2026-12-05T00:00:00.000Z', log: 'ingestion', position: 7 } as EventEnvelope;
const node = (id: string, label = id): GraphChange => ({ kind: 'node', id, type: 'person', class: 'agent', label, attrs: {} });
const edge = (from: string, to: string): GraphChange => ({ kind: 'edge', from, type: 'used', to });

describe(writeGraphChanges.name, () => {
  it('upserts nodes and edges in key order (so concurrent consumers lock rows in one order), each key once with its first definition', async () => {
    const { tx, calls } = recorder();
    await writeGraphChanges(tx, envelope, [
      node('p:b'),
      edge('a', 'y'),
      node('p:a', 'first'),
      edge('b', 'z'),
      node('p:c'),
      node('p:a', 'second'),
      edge('a', 'x'),
    ]);

    const [nodes, edges] = calls;
    expect(nodes.sql).toContain('INSERT INTO lineage_nodes');
    expect(nodes.params[0]).toEqual(['p:a', 'p:b', 'p:c']);
    expect(nodes.params[3]).toEqual(['first', 'p:b', 'p:c']);
    expect(edges.sql).toContain('INSERT INTO lineage_edges');
    expect([edges.params[0], edges.params[2]]).toEqual([
      ['a', 'a', 'b'],
      ['x', 'y', 'z'],
    ]);
  });
});
