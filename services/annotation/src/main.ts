/**
 * The annotation service alone (distributed profile): HTTP API, relay of the `annotation` log
 * and the consumer of ingestion events. Same configuration as the platform (DATABASE_URL,
 * KAFKA_BROKERS, S3_*, PORT default 3002).
 */
import 'reflect-metadata';
import { DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule, databaseConfigFromEnv, intFromEnv } from '@trellis/common';
import { ANNOTATION_LOG, annotationContracts, ingestionContracts } from '@trellis/contracts';
import { HttpExceptionFilter } from '@trellis/errors';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingModule } from '@trellis/messaging';
import { setupOpenApi } from '../../ingestion/src/openapi';
import { connectDatabase } from '../../platform/src/database.bootstrap';
import { AnnotationModule } from './annotation.module';

@Module({})
class AnnotationServiceModule {
  static forRoot(dataSource: DataSource, databaseMode: DatabaseMode): DynamicModule {
    const annotation = AnnotationModule.forRoot();
    return {
      module: AnnotationServiceModule,
      imports: [
        DatabaseModule.forDataSource(dataSource, databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ingestionContracts, annotationContracts] }),
        MessagingModule.forRoot({ relayLogs: [ANNOTATION_LOG], handlers: [annotation.handler] }),
        AuthModule,
        annotation.module,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}

async function main(): Promise<void> {
  const logger = new Logger('annotation');
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => logger.log(m));
  const app = await NestFactory.create(AnnotationServiceModule.forRoot(db.dataSource, db.mode), { logger: ['log', 'warn', 'error'] });
  setupOpenApi(app, 'Trellis annotation');
  const port = intFromEnv(process.env, 'PORT', 3002);
  await app.listen(port, process.env.HOST || '127.0.0.1');
  logger.log(`annotation service on http://${process.env.HOST || '127.0.0.1'}:${port} (OpenAPI: /docs)`);
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close().catch((err: Error) => logger.error(err.message));
    await db.close().catch((err: Error) => logger.error(err.message));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
