import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import type { GraphChange } from './graph-changes';

/**
 * Writes an event's graph changes in the consumer's transaction. Every row carries the event's
 * time and its log position; inserts are idempotent (the first definition of a node or an edge
 * stays, a state is keyed by its position), so a redelivery or a replay writes the same graph.
 */
export async function writeGraphChanges(tx: QueryRunner, envelope: EventEnvelope, changes: GraphChange[]): Promise<void> {
  const at = envelope.occurredAt;
  const nodes = changes.filter((c) => c.kind === 'node');
  const edges = changes.filter((c) => c.kind === 'edge');
  const states = changes.filter((c) => c.kind === 'state');
  if (nodes.length > 0) {
    await tx.query(
      `INSERT INTO lineage_nodes (id, type, class, label, attrs, valid_from, log, position)
       SELECT id, type, class, label, attrs, $6, $7, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) AS n(id, type, class, label, attrs)
       ON CONFLICT (id) DO NOTHING`,
      [
        nodes.map((n) => n.id),
        nodes.map((n) => n.type),
        nodes.map((n) => n.class),
        nodes.map((n) => n.label),
        nodes.map((n) => JSON.stringify(n.attrs)),
        at,
        envelope.log,
        envelope.position,
      ],
    );
  }
  // Large fan-outs (a dataset version's members, a snapshot's items) go in batches.
  for (let i = 0; i < edges.length; i += 5000) {
    const batch = edges.slice(i, i + 5000);
    await tx.query(
      `INSERT INTO lineage_edges (from_id, type, to_id, attrs, valid_from, log, position)
       SELECT f, t, o, a, $5, $6, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS e(f, t, o, a)
       ON CONFLICT (from_id, type, to_id) DO NOTHING`,
      [
        batch.map((e) => e.from),
        batch.map((e) => e.type),
        batch.map((e) => e.to),
        batch.map((e) => JSON.stringify(e.attrs ?? {})),
        at,
        envelope.log,
        envelope.position,
      ],
    );
  }
  if (states.length > 0) {
    await tx.query(
      `INSERT INTO lineage_node_states (node_id, key, value, valid_from, log, position)
       SELECT n, k, v, $4, $5, $6 FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS s(n, k, v)
       ON CONFLICT DO NOTHING`,
      [states.map((s) => s.node), states.map((s) => s.key), states.map((s) => JSON.stringify(s.value)), at, envelope.log, envelope.position],
    );
  }
}
