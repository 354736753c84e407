/**
 * npm run bench:event-store
 *
 * Append throughput of the event store (validation, optimistic concurrency, hash chain, head
 * lock, NOTIFY) beside a baseline measured in the same run: plain INSERTs of the same rows into
 * an unindexed table of the same shape, over the same connection pool. Then read throughput of
 * the whole log beside a plain SELECT of the same rows. Uses DATABASE_URL, or a fresh embedded
 * PostgreSQL under .trellis/bench-data. Prints a table, then one JSON line.
 *
 * The peer, in the same run on the same PostgreSQL: Emmett's PostgreSQL event store appends the
 * same events (with the same actor and correlation id as metadata) with the same writers, each
 * batch to a new stream with expected version 0. It has no logs: every Emmett stream is
 * independent (no hash chain, no head to serialize on), so the 8-logs scenario has no Emmett run.
 * It runs in a child process (bench/peers/emmett-append.peer.ts), since it swaps pg's type parsers
 * for its whole process.
 */
import 'reflect-metadata';
import { ChildProcessByStdio, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { createDataSource } from '@trellis/common';
import { MIGRATIONS } from '../migrations';
import { benchPostgres, printTable } from './bench-services';
import { AppendContext, EventContractRegistry, NewEvent } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import type { EmmettEvent, EmmettResult, EmmettScenario } from './peers/emmett-append.peer';

const SCALE = Number(process.env.BENCH_SCALE || 1);
const context: AppendContext = { actor: { id: 'prn-bench', role: 'steward' } };
const contracts = new EventContractRegistry().register({
  type: 'AssetIngested',
  version: 1,
  schema: z.object({ assetId: z.string(), subjectId: z.string(), sha256: z.string().length(64), bytes: z.number().int(), mediaType: z.string() }),
});

function event(i: number): NewEvent {
  return {
    type: 'AssetIngested',
    data: {
      assetId: `asset-${i}`,
      subjectId: `subj-${i % 97}`,
      sha256: (i.toString(16) + 'a'.repeat(64)).slice(0, 64),
      bytes: 1000 + i,
      mediaType: 'image/png',
    },
  };
}

interface Row {
  scenario: string;
  events: number;
  platformEps: number;
  baselineEps: number;
  emmettEps?: number;
}

type PeerProcess = ChildProcessByStdio<Writable, Readable, null>;

/** The Emmett peer in its child process; `run` sends a scenario and waits for its timing. */
class EmmettPeer {
  private constructor(
    private readonly child: PeerProcess,
    private readonly lines: AsyncIterator<string>,
    readonly version: string,
  ) {}

  static async start(url: string): Promise<EmmettPeer> {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'peers', 'emmett-append.peer.ts'), url], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const ready = (await nextLine(child, lines)) as { ready: boolean; version: string };
    return new EmmettPeer(child, lines, ready.version);
  }

  async run(scenario: EmmettScenario): Promise<EmmettResult> {
    this.child.stdin.write(JSON.stringify(scenario) + '\n');
    return (await nextLine(this.child, this.lines)) as EmmettResult;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}

async function nextLine(child: PeerProcess, lines: AsyncIterator<string>): Promise<unknown> {
  const { value, done } = await lines.next();
  if (done) throw new Error(`the Emmett peer exited (code ${child.exitCode})`);
  return JSON.parse(value as string) as unknown;
}

/** A Trellis event as Emmett appends it: the append context becomes its metadata. */
function emmettEvent(e: NewEvent): EmmettEvent {
  return { type: e.type, data: e.data as Record<string, unknown>, metadata: { actor: context.actor, correlationId: uuidv7() } };
}

async function timed(work: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function parallel(writers: number, perWriter: number, fn: (w: number, i: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await fn(w, i);
    }),
  );
}

/** The baseline: the same rows the store would write, as one plain INSERT per batch. */
async function baselineInsert(ds: DataSource, batch: NewEvent[], streamId: string, seq: { n: number }): Promise<void> {
  const n = batch.length;
  const first = seq.n;
  seq.n += n;
  const now = new Date().toISOString();
  await ds.query(
    `INSERT INTO bench_baseline SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::int[],
       $8::timestamptz[], $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::jsonb[], $14::text[], $15::text[])`,
    [
      Array(n).fill('bench'),
      batch.map((_, i) => first + i + 1),
      batch.map(() => uuidv7()),
      Array(n).fill(streamId),
      batch.map((_, i) => i + 1),
      batch.map((e) => e.type),
      Array(n).fill(1),
      Array(n).fill(now),
      Array(n).fill(context.actor.id),
      Array(n).fill(context.actor.role),
      Array(n).fill(uuidv7()),
      Array(n).fill(null),
      batch.map((e) => JSON.stringify(e.data)),
      Array(n).fill('0'.repeat(64)),
      Array(n).fill('f'.repeat(64)),
    ],
  );
}

async function main(): Promise<void> {
  const pg = await benchPostgres('event-store', Number(process.env.TRELLIS_BENCH_PG_PORT || 54349));
  const url = pg.url;
  const ds = await createDataSource({ url, poolSize: 16, migrations: MIGRATIONS });
  const store = new PostgresEventStore(ds, contracts);
  await ds.query('DROP TABLE IF EXISTS bench_baseline');
  await ds.query('CREATE TABLE bench_baseline (LIKE trellis_events)'); // same columns, no constraints, no index
  const emmett = await EmmettPeer.start(url);

  const rows: Row[] = [];
  let counter = 0;
  const scenarios: { name: string; writers: number; batch: number; batches: number; logs: 'one' | 'per-writer'; peer: boolean }[] = [
    { name: 'single event, 1 writer', writers: 1, batch: 1, batches: 1500 * SCALE, logs: 'one', peer: true },
    { name: 'single event, 8 writers', writers: 8, batch: 1, batches: 300 * SCALE, logs: 'one', peer: true },
    { name: 'batch of 100, 1 writer', writers: 1, batch: 100, batches: 100 * SCALE, logs: 'one', peer: true },
    { name: 'batch of 100, 8 writers', writers: 8, batch: 100, batches: 25 * SCALE, logs: 'one', peer: true },
    { name: 'batch of 100, 8 writers, 8 logs', writers: 8, batch: 100, batches: 25 * SCALE, logs: 'per-writer', peer: false },
  ];
  for (const s of scenarios) {
    const total = s.writers * s.batch * s.batches;
    const run = ++counter;
    const batchOf = (w: number, i: number) => Array.from({ length: s.batch }, (_, k) => event((w * s.batches + i) * s.batch + k));
    const seq = { n: 0 };
    // Baseline first, then the platform, then the peer, so that none benefits from a warmer cache alone.
    const baseSecs = await timed(() => parallel(s.writers, s.batches, (w, i) => baselineInsert(ds, batchOf(w, i), `b${run}-${w}-${i}`, seq)));
    const platSecs = await timed(() =>
      parallel(s.writers, s.batches, async (w, i) => {
        const log = s.logs === 'one' ? `bench-${run}` : `bench-${run}-${w}`;
        await store.append(log, `s-${w}-${i}`, batchOf(w, i), context, { expectedVersion: 'no_stream' });
      }),
    );
    let emmettEps: number | undefined;
    if (s.peer) {
      const batches = Array.from({ length: s.writers }, (_, w) => Array.from({ length: s.batches }, (_, i) => batchOf(w, i).map(emmettEvent)));
      const peer = await emmett.run({ name: s.name, writers: s.writers, batches });
      if (peer.events !== total) throw new Error(`the Emmett peer appended ${peer.events} of ${total} events`);
      emmettEps = total / peer.seconds;
    }
    rows.push({ scenario: s.name, events: total, platformEps: total / platSecs, baselineEps: total / baseSecs, emmettEps });
    process.stderr.write(`  ${s.name}: done\n`);
  }

  // Read the largest single log whole, page by page, beside a plain SELECT of the same rows.
  const readLogName = `bench-3`;
  const logSize = await store.headPosition(readLogName);
  let read = 0;
  const readSecs = await timed(async () => {
    for (let after = 0; ;) {
      const page = await store.readLog(readLogName, after, 1000);
      if (page.length === 0) break;
      read += page.length;
      after = page[page.length - 1].position;
    }
  });
  let baseRead = 0;
  const baseReadSecs = await timed(async () => {
    for (let after = 0; ;) {
      const page: { position: string }[] = await ds.query('SELECT * FROM trellis_events WHERE log = $1 AND position > $2 ORDER BY position LIMIT 1000', [
        readLogName,
        after,
      ]);
      if (page.length === 0) break;
      baseRead += page.length;
      after = Number(page[page.length - 1].position);
    }
  });
  if (read !== logSize || baseRead !== logSize) throw new Error(`read ${read}/${baseRead} of ${logSize} events`);
  const verifySecs = await timed(async () => {
    const v = await store.verify(readLogName);
    if (!v.ok) throw new Error('chain broken in benchmark log');
  });

  await emmett.stop();

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const lines = [
    ['scenario', 'events', 'platform ev/s', 'baseline ev/s', 'ratio', 'Emmett ev/s', 'vs Emmett'],
    ...rows.map((r) => [
      r.scenario,
      String(r.events),
      fmt(r.platformEps),
      fmt(r.baselineEps),
      (r.platformEps / r.baselineEps).toFixed(2),
      r.emmettEps ? fmt(r.emmettEps) : '-',
      r.emmettEps ? (r.platformEps / r.emmettEps).toFixed(2) : '-',
    ]),
    ['read whole log (pages of 1000)', String(read), fmt(read / readSecs), fmt(baseRead / baseReadSecs), (baseReadSecs / readSecs).toFixed(2), '-', '-'],
    ['verify hash chain', String(read), fmt(read / verifySecs), '-', '-', '-', '-'],
  ];
  printTable(
    `Event store benchmark (baseline: plain INSERT / SELECT of the same rows, same pool, same run; peer: Emmett PostgreSQL ${emmett.version}, same PostgreSQL, same run)`,
    lines,
  );
  const get = (name: string) => rows.find((r) => r.scenario === name)!;
  const b8 = get('batch of 100, 8 writers');
  console.log(
    JSON.stringify({
      single_1_writer_eps: Math.round(get('single event, 1 writer').platformEps),
      single_1_writer_baseline_eps: Math.round(get('single event, 1 writer').baselineEps),
      single_8_writers_eps: Math.round(get('single event, 8 writers').platformEps),
      single_8_writers_baseline_eps: Math.round(get('single event, 8 writers').baselineEps),
      single_1_writer_emmett_eps: Math.round(get('single event, 1 writer').emmettEps!),
      single_8_writers_emmett_eps: Math.round(get('single event, 8 writers').emmettEps!),
      batch100_1_writer_emmett_eps: Math.round(get('batch of 100, 1 writer').emmettEps!),
      batch100_8_writers_emmett_eps: Math.round(b8.emmettEps!),
      batch100_1_writer_eps: Math.round(get('batch of 100, 1 writer').platformEps),
      batch100_1_writer_baseline_eps: Math.round(get('batch of 100, 1 writer').baselineEps),
      batch100_8_writers_eps: Math.round(b8.platformEps),
      batch100_8_writers_baseline_eps: Math.round(b8.baselineEps),
      batch100_8_writers_8_logs_eps: Math.round(get('batch of 100, 8 writers, 8 logs').platformEps),
      read_eps: Math.round(read / readSecs),
      read_baseline_eps: Math.round(baseRead / baseReadSecs),
      verify_eps: Math.round(read / verifySecs),
      append_ratio_vs_insert: Number((b8.platformEps / b8.baselineEps).toFixed(3)),
      append_ratio_vs_emmett: Number((b8.platformEps / b8.emmettEps!).toFixed(3)),
    }),
  );
  await ds.destroy();
  await pg.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
