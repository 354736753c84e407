import type { DataSource, QueryRunner } from 'typeorm';
import type { EventEnvelope } from '@trellis/contracts';
import type { PostgresEventStore } from '@trellis/event-store';
import { writeGraphChanges } from '../graph/graph.writer';
import { lenientArtifactReader, LineageHandler, strictArtifactReader } from '../graph/lineage-events.handler';

const TABLES = ['lineage_nodes', 'lineage_edges', 'lineage_node_states'] as const;
/** The columns that identify a row of each table, for naming a difference (never its attributes). */
const KEYS: Record<(typeof TABLES)[number], string> = {
  lineage_nodes: 'id',
  lineage_edges: "from_id || ' ' || type || ' ' || to_id",
  lineage_node_states: "node_id || ' ' || key",
};
const BATCH = 1000;

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

export interface RebuildCheck {
  /** The last position of each replayed log; live rows recorded after it are not compared. */
  heads: Record<string, number>;
  events: number;
  rows: Record<(typeof TABLES)[number], number>;
  differences: GraphDifference[];
  /** Events whose artifact could not be read: replayed without it (their fan-out is missing from the rebuild). */
  unreadable: UnreadableEvent[];
}

/**
 * Rebuilds the lineage graph by replaying every log the lineage consumes through the same
 * handlers, from position 1 to the head each log has when the rebuild starts.
 *
 * `check` replays into temporary tables (dropped at the end) in one repeatable-read transaction
 * and compares them row by row with the live projection, so an operator (and the end-to-end
 * test) can prove the projection is what the logs say. `replace` replays into the live tables in
 * one transaction that holds them locked (consumers wait, then carry on idempotently); an
 * unreadable artifact rolls it back, changing nothing.
 */
export class LineageGraphRebuild {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly handlers: readonly LineageHandler[],
  ) {}

  async check(): Promise<RebuildCheck> {
    const tx = this.dataSource.createQueryRunner();
    await tx.connect();
    try {
      await tx.startTransaction('REPEATABLE READ');
      const [{ schema }] = await tx.query('SELECT current_schema() AS schema');
      const live = (t: string) => `${quoteIdent(schema)}.${t}`;
      // Unqualified names resolve to the session's temporary tables first, so the handlers'
      // writer fills these, not the live ones.
      for (const t of TABLES) await tx.query(`CREATE TEMPORARY TABLE ${t} (LIKE ${live(t)} INCLUDING ALL) ON COMMIT DROP`);
      const unreadable: UnreadableEvent[] = [];
      const { heads, events } = await this.replay(tx, (e) =>
        lenientArtifactReader(this.handler(e).storage, (problem) => unreadable.push({ log: e.log, position: e.position, type: e.type, problem })),
      );
      const differences: GraphDifference[] = [];
      const rows = {} as RebuildCheck['rows'];
      const logs = Object.keys(heads);
      for (const t of TABLES) {
        rows[t] = Number((await tx.query(`SELECT count(*)::bigint AS n FROM pg_temp.${t}`))[0].n);
        // Live rows of a log this rebuild did not read, or recorded after its head, are not compared.
        const inScope = `log = ANY($1::text[]) AND position <= (SELECT h FROM unnest($1::text[], $2::bigint[]) AS heads(l, h) WHERE l = log)`;
        const found: { only: 'live' | 'rebuilt'; key: string; log: string; position: string }[] = await tx.query(
          `(SELECT 'live' AS only, ${KEYS[t]} AS key, log, position FROM (SELECT * FROM ${live(t)} WHERE ${inScope} EXCEPT SELECT * FROM pg_temp.${t}) d)
           UNION ALL
           (SELECT 'rebuilt', ${KEYS[t]}, log, position FROM (SELECT * FROM pg_temp.${t} EXCEPT SELECT * FROM ${live(t)} WHERE ${inScope}) d)
           ORDER BY 3, 4, 2 LIMIT 10000`,
          [logs, logs.map((l) => heads[l])],
        );
        differences.push(...found.map((d) => ({ table: t, only: d.only, key: d.key, log: d.log, position: Number(d.position) })));
      }
      await tx.rollbackTransaction();
      // Newest first: a difference an operator has just caused (or a consumer lagging) leads.
      differences.sort((a, b) => (a.log === b.log ? b.position - a.position : a.log < b.log ? -1 : 1));
      return { heads, events, rows, differences, unreadable };
    } catch (err) {
      if (tx.isTransactionActive) await tx.rollbackTransaction();
      throw err;
    } finally {
      await tx.release();
    }
  }

  async replace(): Promise<{ heads: Record<string, number>; events: number }> {
    const tx = this.dataSource.createQueryRunner();
    await tx.connect();
    try {
      await tx.startTransaction();
      await tx.query(`LOCK TABLE ${TABLES.join(', ')} IN EXCLUSIVE MODE`);
      // lineage_snapshot_facts is a cache of the graph: emptied with it, refilled by the next reads.
      await tx.query(`TRUNCATE ${TABLES.join(', ')}, lineage_snapshot_facts`);
      const result = await this.replay(tx, (e) => strictArtifactReader(this.handler(e).storage));
      await tx.commitTransaction();
      return result;
    } catch (err) {
      if (tx.isTransactionActive) await tx.rollbackTransaction();
      throw err;
    } finally {
      await tx.release();
    }
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
