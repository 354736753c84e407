import type { QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import type { GraphChange } from './graph-changes';

const byKey = ([a]: readonly [string, unknown], [b]: readonly [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Writes an event's graph changes in the consumer's transaction. Every row carries the event's
 * time and its log position. Writes are idempotent and do not depend on the order in which the
 * logs are delivered (each log is consumed on its own, so live and replay interleave them
 * differently): a node or an edge several events name (a person, a service) keeps its earliest
 * definition, by event time then log and position, and a state is keyed by its position. So a
 * redelivery or a rebuild by replay writes the same graph.
 */
export async function writeGraphChanges(tx: QueryRunner, envelope: EventEnvelope, changes: GraphChange[]): Promise<void> {
  const at = envelope.occurredAt;
  // One row per key and statement: an upsert may not touch the same row twice (an event may name
  // an agent twice, e.g. the ingestion service as actor and as de-identifier).
  // Rows go in key order: consumers of different logs upsert the same nodes (a person, a
  // service) at the same time, and rows locked in one order by all cannot deadlock each other.
  const nodes = [...new Map(changes.flatMap((c) => (c.kind === 'node' ? [[c.id, c] as const] : [])).reverse())].sort(byKey).map(([, n]) => n);
  const edges = [...new Map(changes.flatMap((c) => (c.kind === 'edge' ? [[`${c.from}\u0000${c.type}\u0000${c.to}`, c] as const] : [])).reverse())]
    .sort(byKey)
    .map(([, e]) => e);
  const states = changes.filter((c) => c.kind === 'state');
  if (nodes.length > 0) {
    await tx.query(
      `INSERT INTO lineage_nodes (id, type, class, label, attrs, valid_from, log, position)
       SELECT id, type, class, label, attrs, $6, $7, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) AS n(id, type, class, label, attrs)
       ON CONFLICT (id) DO UPDATE SET type = excluded.type, class = excluded.class, label = excluded.label, attrs = excluded.attrs,
         valid_from = excluded.valid_from, log = excluded.log, position = excluded.position
       WHERE (excluded.valid_from, excluded.log, excluded.position) < (lineage_nodes.valid_from, lineage_nodes.log, lineage_nodes.position)`,
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
       ON CONFLICT (from_id, type, to_id) DO UPDATE SET attrs = excluded.attrs, valid_from = excluded.valid_from, log = excluded.log, position = excluded.position
       WHERE (excluded.valid_from, excluded.log, excluded.position) < (lineage_edges.valid_from, lineage_edges.log, lineage_edges.position)`,
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
