import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import {
  annotationContracts,
  ingestionContracts,
  OPENLINEAGE_LOG,
  openLineageContracts,
  registryContracts,
  TRAINER_LOG,
  trainerContracts,
} from '@trellis/contracts';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { HealthController, HttpExceptionFilter } from '@trellis/runtime';
import { TrainerModule } from './trainer.module';

/**
 * The trainer service on its own (the distributed profile): it owns and relays the `trainer`
 * log, consumes the ingestion and annotation events, and takes runs from the shared queue.
 */
@Module({})
export class TrainerAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig; env?: NodeJS.ProcessEnv }): DynamicModule {
    const trainer = TrainerModule.forRoot({ env: options.env });
    return {
      module: TrainerAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({
          contracts: [authContracts, ingestionContracts, annotationContracts, trainerContracts, openLineageContracts, registryContracts],
        }),
        MessagingModule.forRoot({
          relayLogs: [TRAINER_LOG, OPENLINEAGE_LOG],
          dataOnlyLogs: [OPENLINEAGE_LOG],
          handlers: trainer.handlers,
          config: options.messaging,
        }),
        AuthModule,
        trainer.module,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
