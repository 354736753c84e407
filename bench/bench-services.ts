import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
