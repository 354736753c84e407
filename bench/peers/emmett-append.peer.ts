/**
 * The peer of bench:event-store: Emmett's PostgreSQL event store
 * (@event-driven-io/emmett-postgresql), appending the events the benchmark hands it.
 *
 * Run as a child process by bench/event-store.bench.ts, because Emmett's driver layer (dumbo)
 * replaces pg's type parsers for the whole process (int8 as bigint, json with a bigint reviver),
 * which would otherwise change what the Trellis legs of the benchmark measure.
 *
 * Protocol, one JSON document a line: argv[2] is the PostgreSQL URL; once the schema is migrated
 * it prints {"ready":true,"version"}; then for each line read from stdin, a scenario
 * {"name","writers","batches":[writer][batch][event]}, it appends every batch of a writer in
 * turn (the writers concurrently, each batch to a new stream with expected version 0, the
 * equivalent of Trellis' 'no_stream'), and prints {"name","events","seconds"}. Closing stdin ends it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';

export interface EmmettEvent {
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export interface EmmettScenario {
  name: string;
  writers: number;
  /** batches[w][i]: the i-th batch writer w appends. */
  batches: EmmettEvent[][][];
}

export interface EmmettResult {
  name: string;
  events: number;
  seconds: number;
}

async function main(): Promise<void> {
  const url = process.argv[2];
  if (!url) throw new Error('usage: emmett-append.peer.ts <postgresql url>');
  // The same pool size as the benchmark's DataSource (dumbo's own pool would have pg's default of 10).
  const pool = new Pool({ connectionString: url, max: 16 });
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  await store.schema.migrate();
  // Stream names unique per run, so that a reused database (DATABASE_URL) does not conflict.
  const runId = Date.now().toString(36);
  // The first append of a store checks its schema once; not part of any measurement.
  await store.appendToStream(`warmup-${runId}`, [{ type: 'Warmup', data: {}, metadata: {} }], { expectedStreamVersion: 0n });
  // The package's exports map hides its package.json; it lies one folder above dist/.
  const entry = require.resolve('@event-driven-io/emmett-postgresql');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  console.log(JSON.stringify({ ready: true, version }));

  let scenario = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as EmmettScenario;
    scenario += 1;
    const events = s.batches.reduce((n, writer) => n + writer.reduce((m, batch) => m + batch.length, 0), 0);
    const start = process.hrtime.bigint();
    await Promise.all(
      s.batches.map(async (writer, w) => {
        for (let i = 0; i < writer.length; i++) {
          await store.appendToStream(`bench${scenario}-${runId}-${w}-${i}`, writer[i], { expectedStreamVersion: 0n });
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const result: EmmettResult = { name: s.name, events, seconds };
    console.log(JSON.stringify(result));
  }
  await store.close();
  await pool.end();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
