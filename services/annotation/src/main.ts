/**
 * The annotation service alone (distributed profile): HTTP API, relay of the `annotation` log
 * and the consumer of ingestion events. Same configuration as the platform (DATABASE_URL,
 * KAFKA_BROKERS, S3_*, PORT default 3002).
 */
import 'reflect-metadata';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { ANNOTATION_LOG, annotationContracts, ingestionContracts } from '@trellis/contracts';
import { HttpExceptionFilter } from '@trellis/runtime';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingModule } from '@trellis/messaging';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
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

runServiceMain({
  name: 'annotation',
  title: 'Trellis annotation',
  defaultPort: 3002,
  migrations: MIGRATIONS,
  endpoints: 'REST docs: /docs',
  module: (dataSource, databaseMode) => AnnotationServiceModule.forRoot(dataSource, databaseMode),
});
