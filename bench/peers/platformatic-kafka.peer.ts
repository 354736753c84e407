/**
 * The second raw baseline of bench:messaging: @platformatic/kafka (a maintained, pure-JS Kafka
 * client), producing and consuming the same payloads as the kafkajs baseline. It is ESM-only and
 * needs Node >= 20.19.4 (Node 20 then loads ES modules with require), so it is not a dependency
 * of the platform: it is installed on first use from the npm registry under .trellis/, pinned.
 * BENCH_PLATFORMATIC=0 skips it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const PLATFORMATIC_KAFKA_VERSION = '1.35.0';
const DIR = join(__dirname, '..', '..', '.trellis', 'bench-peers', 'platformatic-kafka');

/** The parts of the client the benchmark uses (the package is not type-checked with the repository). */
export interface PlatformaticKafka {
  Admin: new (o: { clientId: string; bootstrapBrokers: string[] }) => {
    createTopics(o: { topics: string[]; partitions: number; replicas: number }): Promise<unknown>;
    close(): Promise<void>;
  };
  Producer: new (o: Record<string, unknown>) => {
    send(o: { messages: { topic: string; key: string; value: string; timestamp: bigint }[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  Consumer: new (o: Record<string, unknown>) => {
    consume(o: Record<string, unknown>): Promise<NodeJS.EventEmitter & { close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
  stringSerializers: unknown;
  stringDeserializers: unknown;
}

/** The client, installing it on first use; or why it cannot be had. */
export function loadPlatformaticKafka(): { kafka: PlatformaticKafka } | { why: string } {
  if (process.env.BENCH_PLATFORMATIC === '0') return { why: 'skipped: BENCH_PLATFORMATIC=0' };
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) return { why: `skipped: @platformatic/kafka needs Node >= 20.19.4, this is ${process.versions.node}` };
  const marker = join(DIR, '.installed');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== PLATFORMATIC_KAFKA_VERSION) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, 'package.json'), '{"private":true}\n');
    process.stderr.write(`  installing @platformatic/kafka@${PLATFORMATIC_KAFKA_VERSION} under .trellis/bench-peers (first use)\n`);
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `@platformatic/kafka@${PLATFORMATIC_KAFKA_VERSION}`], {
      cwd: DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) return { why: 'skipped: npm install of @platformatic/kafka failed (see above)' };
    writeFileSync(marker, PLATFORMATIC_KAFKA_VERSION);
  }
  // Node 20.19+ loads an ES module (without top-level await) through require.
  // Resolved from the install's own package.json, so that the package's exports map applies.
  const load = createRequire(join(DIR, 'package.json'));
  return { kafka: load('@platformatic/kafka') as PlatformaticKafka };
}
