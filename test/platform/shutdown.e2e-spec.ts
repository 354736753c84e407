import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { eventually, freePort, openTestDataSource, spawnTs, testDatabaseUrl, waitForExit } from '@trellis/testing';

const JWT_SECRET = 'issue-11-item-0-shutdown-secret-0123456789abcdef';

/**
 * Issue 11, item 0: with work stuck on the database, SIGTERM did not stop the process (closing
 * the application waits for the consumers to finish what they started). Here a consumer waits
 * for good on a row lock this test holds (lock_timeout off), and SIGTERM must still end the
 * platform within its shutdown bound.
 */
describe('Shutdown with work that never finishes', () => {
  let child: ChildProcess | undefined;
  let dataDir: string;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits after SIGTERM within TRELLIS_SHUTDOWN_TIMEOUT_MS', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-shutdown-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = spawnTs('services/platform/src/main.ts', [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: testDatabaseUrl(),
      TRELLIS_DATA_DIR: dataDir,
      KAFKA_BROKERS: '',
      TRELLIS_MESSAGING: 'in-process',
      S3_ENDPOINT: '',
      TRELLIS_JWT_SECRET: JWT_SECRET,
      TRELLIS_SHUTDOWN_TIMEOUT_MS: '2000',
      TRELLIS_DB_LOCK_TIMEOUT_MS: '0',
      TRELLIS_DB_STATEMENT_TIMEOUT_MS: '0',
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await eventually(async () => output.includes('listening on'), 240_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });

    const steward = jwt.sign({ sub: 'issue-11-item-0-steward', roles: ['steward'] }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
    // Two connections: one holds the lock, the other watches for the stuck consumer.
    const ds = await openTestDataSource(2);
    const lock = ds.createQueryRunner();
    try {
      // Every subscription's checkpoint row: the in-process consumers apply each event in a
      // transaction that locks it first, so the next event leaves one waiting, connection held.
      await lock.connect();
      await lock.startTransaction();
      await lock.query('SELECT 1 FROM trellis_subscription_checkpoints FOR UPDATE');
      const res = await fetch(`${url}/ingestion/subjects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${steward}`, 'content-type': 'application/json' },
        body: JSON.stringify({ externalRef: `shutdown-${Date.now()}` }),
      });
      expect(res.status).toBe(201);
      await eventually(async () => {
        const [{ n }] = await ds.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM trellis_subscription_checkpoints%FOR UPDATE%' AND pid <> pg_backend_pid()`,
        );
        return n > 0;
      }, 30_000);

      const signalled = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([waitForExit(child), new Promise<'still running'>((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(code).not.toBe('still running');
      expect(Date.now() - signalled).toBeLessThan(20_000);
    } finally {
      await lock.rollbackTransaction().catch(() => undefined);
      await lock.release();
      await ds.destroy();
    }
  }, 300_000);
});
