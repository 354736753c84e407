import { randomBytes } from 'node:crypto';
import { AddressInfo, createServer } from 'node:net';
import { DataSource } from 'typeorm';
import { createDataSource } from '@trellis/common';
import { EventContractRegistry } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { testContracts } from './event-builders';

/** Set by test/setup/global-setup.ts for the int and e2e tiers. */
export function testDatabaseUrl(): string {
  const url = process.env.TRELLIS_TEST_DATABASE_URL;
  if (!url) throw new Error('TRELLIS_TEST_DATABASE_URL is not set: run integration tests through `npm test` or `npm run test:int`');
  return url;
}

export function openTestDataSource(poolSize = 10): Promise<DataSource> {
  return createDataSource({ url: testDatabaseUrl(), poolSize });
}

/** A loopback port nothing listens on (the OS picks it), for a server a test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A lowercase name unique to this test run, valid as a log, topic or table suffix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/**
 * A name unique to this test run in letters only, for names that enter events (datasets,
 * projects): those are refused when they hold a run of 7 or more digits, which the Safe Harbor
 * check takes for a record number (a timestamp, or a UUID group that happens to be all digits).
 */
export function uniqueTitle(prefix: string): string {
  return `${prefix} ${[...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}`;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export * from './event-builders';
export * from './child-process';
export * from './decider-specification';
export * from './in-memory-event-store';

/** A data source, an event store over `contracts` and a started LISTEN notifier, closed together. */
export async function openTestEventStore(
  contracts: EventContractRegistry = testContracts(),
  poolSize = 10,
): Promise<{ ds: DataSource; store: PostgresEventStore; notifier: LogNotifier; close(): Promise<void> }> {
  const ds = await openTestDataSource(poolSize);
  const notifier = new LogNotifier(testDatabaseUrl());
  await notifier.start();
  return {
    ds,
    store: new PostgresEventStore(ds, contracts),
    notifier,
    close: async () => {
      await notifier.stop();
      await ds.destroy();
    },
  };
}
