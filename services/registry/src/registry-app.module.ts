import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { annotationContracts, ingestionContracts, REGISTRY_LOG, registryContracts, trainerContracts } from '@trellis/contracts';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { HEALTH_CONTRIBUTORS, HealthController, HttpExceptionFilter } from '@trellis/runtime';
import { RegistryHealth } from './registry.health';
import { RegistryModule } from './registry.module';

/**
 * The registry service on its own (the distributed profile): it owns and relays the `registry`
 * log, consumes the trainer, annotation and ingestion events, and takes evaluations from the
 * shared queue.
 */
@Module({})
export class RegistryAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig; env?: NodeJS.ProcessEnv }): DynamicModule {
    const registry = RegistryModule.forRoot({ env: options.env });
    return {
      module: RegistryAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ingestionContracts, annotationContracts, trainerContracts, registryContracts] }),
        MessagingModule.forRoot({ relayLogs: [REGISTRY_LOG], handlers: registry.handlers, config: options.messaging }),
        AuthModule,
        registry.module,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: HEALTH_CONTRIBUTORS, inject: [RegistryHealth], useFactory: (r: RegistryHealth) => [r] },
      ],
    };
  }
}
