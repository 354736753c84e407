import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { INGESTION_LOG, ingestionContracts } from '@trellis/contracts';
import { HttpExceptionFilter } from '@trellis/runtime';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { StorageModule } from '@trellis/storage';
import { HealthController } from '@trellis/runtime';
import { IngestionModule } from './ingestion.module';

/**
 * The ingestion service on its own (the distributed profile): it owns and relays the
 * `ingestion` log; authentication reads the shared token table.
 */
@Module({})
export class IngestionAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig }): DynamicModule {
    return {
      module: IngestionAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ingestionContracts] }),
        MessagingModule.forRoot({ relayLogs: [INGESTION_LOG], config: options.messaging }),
        AuthModule,
        StorageModule.forRoot(),
        IngestionModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
