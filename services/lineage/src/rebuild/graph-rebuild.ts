import type { DataSource, QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import type { PostgresEventStore } from '@trellis/event-store';
import { writeGraphChanges } from '../graph/graph.writer';
import { lenientArtifactReader, LineageHandler } from '../graph/lineage-events.handler';

const TABLES = ['lineage_nodes', 'lineage_edges', 'lineage_node_states'] as const;
/** The columns that identify a row of each table, for naming a difference (never its attributes). */
const KEYS: Record<(typeof TABLES)[number], string> = {
  lineage_nodes: 'id',
  lineage_edges: "from_id || ' ' || type || ' ' || to_id",
  lineage_node_states: "node_id || ' ' || key",
};
const BATCH = 1000;
/** The columns an upsert of the writer sets (those not in the conflict key). */
const COLUMNS: Record<string, readonly string[]> = {
  lineage_nodes: ['type', 'class', 'label', 'attrs', 'valid_from', 'log', 'position'],
  lineage_edges: ['attrs', 'valid_from', 'log', 'position'],
};

export interface UnreadableEvent {
  log: string;
  position: number;
  type: string;
  problem: string;
}

export interface GraphDifference {
  table: (typeof TABLES)[number];
  /** `live`: only in the projection as it is; `rebuilt`: only in the replay (or there with other values). */
  only: 'live' | 'rebuilt';
  key: string;
  log: string;
  position: number;
}

export interface RebuildResult {
  /** The last position of each replayed log; live rows recorded after it are not compared. */
  heads: Record<string, number>;
  events: number;
  /**
   * Events whose artifact could not be read: replayed without it, and the rows the live graph
   * holds from them (recorded at their log and position) kept in the rebuild instead.
   */
  unreadable: UnreadableEvent[];
  /** How many live rows were kept for the unreadable events. */
  kept: number;
}

export interface RebuildCheck extends RebuildResult {
  rows: Record<(typeof TABLES)[number], number>;
  differences: GraphDifference[];
}

/**
 * Rebuilds the lineage graph by replaying every log the lineage consumes through the same
 * handlers, from position 1 to the head each log has when the rebuild starts, into temporary
 * tables of the session (dropped at its end).
 *
 * An event whose artifact cannot be read (an object the storage lost, a bucket moved) is replayed
 * without its fan-out, and the rows the live graph recorded from it when it was read are kept in
 * the rebuild: so one lost object neither blocks a repair nor makes it drop what was known, and
 * both modes list such events.
 *
 * `check` replays in one repeatable-read transaction and compares the rebuild with the live
 * projection row by row, so an operator (and the end-to-end test) can prove the projection is
 * what the logs say. `replace` holds the live tables locked (consumers wait, then carry on
 * idempotently), replays, and swaps the rebuild in, in one transaction: a failure changes nothing.
 */
export class LineageGraphRebuild {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly handlers: readonly LineageHandler[],
  ) {}

  async check(): Promise<RebuildCheck> {
    return this.inTransaction('REPEATABLE READ', async (tx, live) => {
      const rebuilt = await this.rebuild(tx, live);
      const differences: GraphDifference[] = [];
      const rows = {} as RebuildCheck['rows'];
      const logs = Object.keys(rebuilt.heads);
      for (const t of TABLES) {
        rows[t] = Number((await tx.query(`SELECT count(*)::bigint AS n FROM pg_temp.${t}`))[0].n);
        // Live rows of a log this rebuild did not read, or recorded after its head, are not compared.
        const inScope = `log = ANY($1::text[]) AND position <= (SELECT h FROM unnest($1::text[], $2::bigint[]) AS heads(l, h) WHERE l = log)`;
        const found: { only: 'live' | 'rebuilt'; key: string; log: string; position: string }[] = await tx.query(
          `(SELECT 'live' AS only, ${KEYS[t]} AS key, log, position FROM (SELECT * FROM ${live(t)} WHERE ${inScope} EXCEPT SELECT * FROM pg_temp.${t}) d)
           UNION ALL
           (SELECT 'rebuilt', ${KEYS[t]}, log, position FROM (SELECT * FROM pg_temp.${t} EXCEPT SELECT * FROM ${live(t)} WHERE ${inScope}) d)
           ORDER BY 3, 4, 2 LIMIT 10000`,
          [logs, logs.map((l) => rebuilt.heads[l])],
        );
        differences.push(...found.map((d) => ({ table: t, only: d.only, key: d.key, log: d.log, position: Number(d.position) })));
      }
      await tx.rollbackTransaction();
      // Newest first: a difference an operator has just caused (or a consumer lagging) leads.
      differences.sort((a, b) => (a.log === b.log ? b.position - a.position : a.log < b.log ? -1 : 1));
      return { ...rebuilt, rows, differences };
    });
  }

  async replace(): Promise<RebuildResult> {
    return this.inTransaction('READ COMMITTED', async (tx, live) => {
      await tx.query(`LOCK TABLE ${TABLES.map(live).join(', ')} IN EXCLUSIVE MODE`);
      const rebuilt = await this.rebuild(tx, live);
      // lineage_snapshot_facts is a cache of the graph: emptied with it, refilled by the next reads.
      await tx.query(`TRUNCATE ${[...TABLES, 'lineage_snapshot_facts'].map(live).join(', ')}`);
      for (const t of TABLES) await tx.query(`INSERT INTO ${live(t)} SELECT * FROM pg_temp.${t}`);
      await tx.commitTransaction();
      return rebuilt;
    });
  }

  /** Runs `work` in a transaction on a connection of its own; `live(t)` names a live table past the temporary ones. */
  private async inTransaction<T>(
    isolation: 'REPEATABLE READ' | 'READ COMMITTED',
    work: (tx: QueryRunner, live: (table: string) => string) => Promise<T>,
  ): Promise<T> {
    const tx = this.dataSource.createQueryRunner();
    await tx.connect();
    try {
      await tx.startTransaction(isolation);
      const [{ schema }] = await tx.query('SELECT current_schema() AS schema');
      return await work(tx, (t) => `${quoteIdent(schema)}.${t}`);
    } catch (err) {
      if (tx.isTransactionActive) await tx.rollbackTransaction();
      throw err;
    } finally {
      await tx.release();
    }
  }

  /** Replays every log into temporary tables, then keeps the live rows of the events whose artifact could not be read. */
  private async rebuild(tx: QueryRunner, live: (table: string) => string): Promise<RebuildResult> {
    // Unqualified names resolve to the session's temporary tables first, so the handlers'
    // writer fills these, not the live ones.
    for (const t of TABLES) await tx.query(`CREATE TEMPORARY TABLE ${t} (LIKE ${live(t)} INCLUDING ALL) ON COMMIT DROP`);
    const unreadable: UnreadableEvent[] = [];
    const { heads, events } = await this.replay(tx, (e) =>
      lenientArtifactReader(this.handler(e).storage, (problem) => unreadable.push({ log: e.log, position: e.position, type: e.type, problem })),
    );
    let kept = 0;
    if (unreadable.length > 0) {
      const at = [unreadable.map((u) => u.log), unreadable.map((u) => u.position)];
      const from = (t: string) => `SELECT * FROM ${live(t)} WHERE (log, position) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`;
      // The writer's rule: a row several events define keeps its earliest definition.
      const earliest = (t: string) =>
        `DO UPDATE SET ${COLUMNS[t].map((c) => `${c} = excluded.${c}`).join(', ')}
         WHERE (excluded.valid_from, excluded.log, excluded.position) < (${t}.valid_from, ${t}.log, ${t}.position)`;
      for (const [t, conflict] of [
        ['lineage_nodes', `ON CONFLICT (id) ${earliest('lineage_nodes')}`],
        ['lineage_edges', `ON CONFLICT (from_id, type, to_id) ${earliest('lineage_edges')}`],
        ['lineage_node_states', 'ON CONFLICT DO NOTHING'],
      ] as const) {
        const [{ n }] = await tx.query(`WITH k AS (INSERT INTO pg_temp.${t} ${from(t)} ${conflict} RETURNING 1) SELECT count(*)::int AS n FROM k`, at);
        kept += n;
      }
    }
    return { heads, events, unreadable, kept };
  }

  private handler(e: EventEnvelope): LineageHandler {
    const h = this.handlers.find((x) => x.context === e.log);
    if (!h) throw new Error(`no lineage handler reads the log ${e.log}`);
    return h;
  }

  /** Every event of every consumed log up to its head now, through its handler, into whatever tables `tx` resolves. */
  private async replay(
    tx: QueryRunner,
    reader: (e: EventEnvelope) => Parameters<LineageHandler['changes']>[1],
  ): Promise<{ heads: Record<string, number>; events: number }> {
    const heads: Record<string, number> = {};
    let events = 0;
    for (const h of this.handlers) {
      const [row] = await tx.query('SELECT position FROM trellis_log_heads WHERE log = $1', [h.context]);
      const head = row ? Number(row.position) : 0;
      heads[h.context] = head;
      for (let after = 0; after < head;) {
        const batch = (await this.store.readLog(h.context, after, BATCH, tx)).filter((e) => e.position <= head);
        if (batch.length === 0) break;
        for (const e of batch) await writeGraphChanges(tx, e, await h.changes(e, reader(e)));
        events += batch.length;
        after = batch[batch.length - 1].position;
      }
    }
    return { heads, events };
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
