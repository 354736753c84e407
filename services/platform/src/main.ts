import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { databaseConfigFromEnv, intFromEnv } from '@trellis/common';
import { connectDatabase } from './database.bootstrap';
import { PlatformModule } from './platform.module';

async function main(): Promise<void> {
  const logger = new Logger('trellis');
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => logger.log(m));
  const app = await NestFactory.create(PlatformModule.forRoot({ dataSource: db.dataSource, databaseMode: db.mode }), {
    logger: ['log', 'warn', 'error'],
  });
  const port = intFromEnv(process.env, 'PORT', 3000);
  await app.listen(port, process.env.HOST || '127.0.0.1');
  logger.log(`Trellis platform listening on http://${process.env.HOST || '127.0.0.1'}:${port} (health: /health, GraphQL: /graphql)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: shutting down`);
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
