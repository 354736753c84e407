import { DataSource, QueryRunner } from 'typeorm';

/** Runs `work` in one transaction on its own connection: commit on success, rollback on throw. */
export async function withTransaction<T>(dataSource: DataSource, work: (tx: QueryRunner) => Promise<T>): Promise<T> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  try {
    await qr.startTransaction();
    const result = await work(qr);
    await qr.commitTransaction();
    return result;
  } catch (err) {
    if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
}
