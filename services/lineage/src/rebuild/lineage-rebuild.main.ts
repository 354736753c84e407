/**
 * `npm run lineage:rebuild -- --check | --replace`: rebuilds the lineage graph by replaying the
 * event logs. `--check` (read-only) replays into temporary tables and compares them with the live
 * projection; `--replace` swaps the rebuild in, in one transaction. Same configuration as
 * the services (DATABASE_URL or the embedded PostgreSQL under TRELLIS_DATA_DIR; S3_* or the
 * filesystem store for the artifacts the events name).
 */
import 'reflect-metadata';
import { databaseConfigFromEnv } from '@trellis/common';
import { EventContractRegistry } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { connectDatabase } from '@trellis/runtime';
import { openObjectStorage } from '@trellis/storage';
import { MIGRATIONS } from '../../../../migrations';
import { LINEAGE_CONTRACTS, lineageHandlers } from '../graph/lineage-graph.module';
import { LineageGraphRebuild, type RebuildResult } from './graph-rebuild';

const USAGE = `usage: npm run lineage:rebuild -- --check | --replace

Rebuilds the lineage graph (services/lineage) by replaying every log it consumes through the
same handlers, up to the head each log has when it starts.

  --check    read-only: replay into temporary tables and compare them with the live graph;
             exit 0 when they are equal, 1 when they differ (the differences are listed).
             Run it while the lineage consumers are caught up: an event the live consumer has
             not handled yet shows as a difference.
  --replace  replay, then swap the rebuild for the live tables in one transaction (the lineage
             consumers wait for it); a failure changes nothing.

An event whose artifact (a manifest, an annotation set, a snapshot) cannot be read is replayed
without it, and the rows the live graph recorded from it are kept; both modes list such events.

exit codes: 0 ok, 1 different or failed, 2 usage error`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--check' && a !== '--replace');
  const modes = argv.filter((a) => a === '--check' || a === '--replace');
  if (unknown.length > 0 || modes.length !== 1) {
    console.error(
      unknown.length > 0
        ? `lineage:rebuild: unknown argument ${JSON.stringify(unknown[0]).slice(0, 60)}`
        : 'lineage:rebuild: give exactly one of --check and --replace',
    );
    console.error(USAGE);
    return 2;
  }
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => console.error(`[trellis] ${m}`), MIGRATIONS);
  try {
    const storage = await openObjectStorage();
    const handlers = lineageHandlers().map((h) => h.bind(storage));
    const registry = LINEAGE_CONTRACTS.reduce((all, c) => all.include(c), new EventContractRegistry());
    const rebuild = new LineageGraphRebuild(db.dataSource, new PostgresEventStore(db.dataSource, registry), handlers);
    const heads = (h: Record<string, number>) =>
      Object.entries(h)
        .map(([log, p]) => `${log} ${p}`)
        .join(', ');
    const listUnreadable = (r: RebuildResult) => {
      for (const u of r.unreadable) console.log(`unreadable: ${u.log} ${u.position} ${u.type}: ${u.problem}`);
      if (r.unreadable.length > 0)
        console.log(`kept ${r.kept} rows the live graph has from the ${r.unreadable.length} events whose artifact could not be read`);
    };
    if (modes[0] === '--replace') {
      const done = await rebuild.replace();
      listUnreadable(done);
      console.log(`rebuilt the lineage graph from ${done.events} events (${heads(done.heads)})`);
      return 0;
    }
    const check = await rebuild.check();
    console.log(
      `replayed ${check.events} events (${heads(check.heads)}): ${check.rows.lineage_nodes} nodes, ${check.rows.lineage_edges} edges, ${check.rows.lineage_node_states} states`,
    );
    listUnreadable(check);
    for (const d of check.differences.slice(0, 50))
      console.log(`differs: ${d.table} ${d.key} (${d.log} ${d.position}) only in the ${d.only === 'live' ? 'live graph' : 'rebuild'}`);
    if (check.differences.length > 50) console.log(`... and ${check.differences.length - 50} more differences`);
    console.log(
      check.differences.length === 0
        ? 'the live lineage graph equals its rebuild'
        : `the live lineage graph differs from its rebuild in ${check.differences.length} rows`,
    );
    return check.differences.length === 0 ? 0 : 1;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`lineage:rebuild: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
