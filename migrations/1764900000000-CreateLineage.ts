import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lineage graph (W3C PROV shape), rebuilt from every context's events by the lineage service:
 * nodes (entities, activities, agents), edges between them, and the facts about a node that change
 * over time (a consent's withdrawn purposes, a version's flag, an alias held). Every row keeps when
 * it became true (the event's time) and where it was recorded (log and position), so every query
 * can be asked as of a past moment. Ids are `<type>:<natural id>`; subjects and people appear as
 * pseudonymous ids only.
 */
export class CreateLineage1764900000000 implements MigrationInterface {
  name = 'CreateLineage1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lineage_nodes (
        id         text        PRIMARY KEY,
        type       text        NOT NULL,
        class      text        NOT NULL CHECK (class IN ('entity', 'activity', 'agent')),
        label      text        NOT NULL,
        attrs      jsonb       NOT NULL DEFAULT '{}',
        valid_from timestamptz NOT NULL,
        log        text        NOT NULL,
        position   bigint      NOT NULL
      )`);
    await q.query('CREATE INDEX lineage_nodes_type ON lineage_nodes (type)');
    // Edges point from the effect to its cause (PROV's direction: a model version wasGeneratedBy a
    // training run, which used a snapshot): upstream is from -> to, downstream to -> from.
    await q.query(`
      CREATE TABLE lineage_edges (
        from_id    text        NOT NULL,
        type       text        NOT NULL CHECK (type IN ('used', 'wasGeneratedBy', 'wasDerivedFrom', 'wasAssociatedWith', 'wasAttributedTo', 'actedOnBehalfOf')),
        to_id      text        NOT NULL,
        attrs      jsonb       NOT NULL DEFAULT '{}',
        valid_from timestamptz NOT NULL,
        log        text        NOT NULL,
        position   bigint      NOT NULL,
        PRIMARY KEY (from_id, type, to_id)
      )`);
    await q.query('CREATE INDEX lineage_edges_to ON lineage_edges (to_id, type)');
    await q.query(`
      CREATE TABLE lineage_node_states (
        node_id    text        NOT NULL,
        key        text        NOT NULL,
        value      jsonb,
        valid_from timestamptz NOT NULL,
        log        text        NOT NULL,
        position   bigint      NOT NULL,
        PRIMARY KEY (node_id, key, log, position)
      )`);
    await q.query('CREATE INDEX lineage_node_states_at ON lineage_node_states (node_id, key, valid_from)');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['lineage_node_states', 'lineage_edges', 'lineage_nodes']) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
