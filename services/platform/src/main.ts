import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { databaseConfigFromEnv, intFromEnv } from '@trellis/common';
import { connectDatabase } from './database.bootstrap';
import { PlatformModule } from './platform.module';
import { setupOpenApi } from '../../ingestion/src/openapi';

async function main(): Promise<void> {
  const logger = new Logger('trellis');
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => logger.log(m));
  const app = await NestFactory.create(PlatformModule.forRoot({ dataSource: db.dataSource, databaseMode: db.mode }), {
    logger: ['log', 'warn', 'error'],
  });
  setupOpenApi(app);
  const port = intFromEnv(process.env, 'PORT', 3000);
  await app.listen(port, process.env.HOST || '127.0.0.1');
  logger.log(`Trellis platform listening on http://${process.env.HOST || '127.0.0.1'}:${port} (health: /health, GraphQL: /graphql, REST docs: /docs)`);

  let closing = false;
  // HTTP first, then consumers and subscriptions finish their in-flight work and commit, and
  // only then does the database (the embedded server included) stop.
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
