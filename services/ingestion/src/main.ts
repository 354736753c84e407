import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { databaseConfigFromEnv, intFromEnv } from '@trellis/common';
import { connectDatabase } from '../../platform/src/database.bootstrap';
import { IngestionAppModule } from './ingestion-app.module';
import { setupOpenApi } from './openapi';

/** Runs the ingestion service alone (distributed profile): DATABASE_URL, KAFKA_BROKERS, S3_ENDPOINT. */
async function main(): Promise<void> {
  const logger = new Logger('ingestion');
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => logger.log(m));
  const app = await NestFactory.create(IngestionAppModule.forRoot({ dataSource: db.dataSource, databaseMode: db.mode }), { logger: ['log', 'warn', 'error'] });
  setupOpenApi(app, 'Trellis ingestion');
  const port = intFromEnv(process.env, 'PORT', 3001);
  const host = process.env.HOST || '127.0.0.1';
  await app.listen(port, host);
  logger.log(`Trellis ingestion listening on http://${host}:${port} (REST docs: /docs)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: shutting down`);
    let code = 0;
    try {
      await app.close();
    } catch (err) {
      code = 1;
      logger.error(`shutdown: ${(err as Error).message}`);
    } finally {
      await db.close().catch((err: Error) => logger.error(`closing the database: ${err.message}`));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
