import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, QueryRunner } from 'typeorm';

/** Set while `work` of a withTransaction runs: that code holds a pool connection. */
const holding = new AsyncLocalStorage<{ active: boolean }>();

/** Runs `work` in one transaction on its own connection: commit on success, rollback on throw. */
export async function withTransaction<T>(dataSource: DataSource, work: (tx: QueryRunner) => Promise<T>): Promise<T> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  const marker = { active: true };
  try {
    await qr.startTransaction();
    const result = await holding.run(marker, () => work(qr));
    await qr.commitTransaction();
    return result;
  } catch (err) {
    if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    // Work started inside and still running afterwards no longer holds this connection.
    marker.active = false;
    await qr.release();
  }
}

/**
 * Whether the caller runs inside a withTransaction's work, i.e. holds a pool connection: asking
 * the pool for another there is how the platform froze under load (every connection held, each
 * waiting for a second one). Anything called there must use the transaction's QueryRunner.
 */
export function holdsTransactionConnection(): boolean {
  return holding.getStore()?.active === true;
}
