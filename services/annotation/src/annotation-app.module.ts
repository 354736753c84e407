import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { ANNOTATION_LOG, annotationContracts, ingestionContracts } from '@trellis/contracts';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { HealthController, HttpExceptionFilter } from '@trellis/runtime';
import { AnnotationModule } from './annotation.module';

/**
 * The annotation service on its own (the distributed profile): it owns and relays the
 * `annotation` log and consumes the ingestion events; authentication reads the shared token table.
 */
@Module({})
export class AnnotationAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig }): DynamicModule {
    const annotation = AnnotationModule.forRoot();
    return {
      module: AnnotationAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ingestionContracts, annotationContracts] }),
        MessagingModule.forRoot({ relayLogs: [ANNOTATION_LOG], handlers: [annotation.handler], config: options.messaging }),
        AuthModule,
        annotation.module,
      ],
      // A load balancer probes each process; without it a standalone annotation looked dead.
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
