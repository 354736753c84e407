import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@trellis/common';

const root = join(__dirname, '..');

/** PostgreSQL for a benchmark: DATABASE_URL, or a fresh embedded cluster under .trellis/bench-data. */
export async function benchPostgres(name: string, port: number): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  const dataDir = join(root, '.trellis', 'bench-data', name);
  rmSync(dataDir, { recursive: true, force: true });
  const pg = await startEmbeddedPostgres({ dataDir, port });
  return { url: pg.url, stop: () => pg.stop() };
}

/** Kafka for a benchmark: KAFKA_BROKERS, or the project's infra script on a port of its own. */
export function benchKafka(port: number): { brokers: string[]; stop(): void } {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(','), stop: () => undefined };
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(port + 1), TRELLIS_DATA_DIR: join(root, '.trellis', 'bench-data') };
  const script = join(root, 'infra', 'kafka.sh');
  const wasRunning = spawnSync('bash', [script, 'status'], { env, stdio: 'ignore' }).status === 0;
  execFileSync('bash', [script, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return {
    brokers: [`127.0.0.1:${port}`],
    stop: () => {
      if (!wasRunning) execFileSync('bash', [script, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Prints rows as an aligned table, the first row being the header. */
export function printTable(title: string, lines: string[][]): void {
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  console.log(`\n${title}\n`);
  for (const [i, l] of lines.entries()) {
    console.log(l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** CPU milliseconds used so far by this process (all its threads), PostgreSQL's processes, the Kafka broker (a JVM) and SeaweedFS. */
export interface CpuSample {
  bench: number;
  postgres: number;
  kafka: number;
  s3: number;
}

/**
 * Reads /proc (Linux; elsewhere null): which process the CPU goes to tells a wait from work, on
 * a machine where the benchmark, PostgreSQL and the broker share the cores.
 */
export function cpuSample(): CpuSample | null {
  if (!existsSync('/proc/self/stat')) return null;
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const sample: CpuSample = { bench: 0, postgres: 0, kafka: 0, s3: 0 };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * tick; // utime + stime
      if (Number(pid) === process.pid) sample.bench += ms;
      else if (comm === 'postgres') sample.postgres += ms;
      else if (comm === 'java' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka')) sample.kafka += ms;
      else if (comm === 'weed') sample.s3 += ms;
    } catch {
      // The process ended while it was read.
    }
  }
  return sample;
}

/** Microseconds of CPU per event between two samples, per process and in all. */
export function cpuPerEvent(from: CpuSample | null, to: CpuSample | null, events: number): (CpuSample & { total: number }) | null {
  if (!from || !to) return null;
  const per = (k: keyof CpuSample) => Math.round(((to[k] - from[k]) * 1000) / events);
  const out = { bench: per('bench'), postgres: per('postgres'), kafka: per('kafka'), s3: per('s3') };
  return { ...out, total: out.bench + out.postgres + out.kafka + out.s3 };
}
