import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseModule, DatabaseMode } from '@trellis/common';
import { HEALTH_CONTRIBUTORS, HealthController, HttpExceptionFilter, trellisGraphqlModule } from '@trellis/runtime';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { AUTH_LOG } from '@trellis/auth';
import { AuditModule } from '../../lineage/src/audit/audit.module';
import { INGESTION_LOG, ingestionContracts } from '@trellis/contracts';
import { ObjectStorage, StorageModule } from '@trellis/storage';
import { IngestionModule } from '../../ingestion/src/ingestion.module';
import { ANNOTATION_LOG, annotationContracts } from '@trellis/contracts';
import { AnnotationModule } from '../../annotation/src/annotation.module';
import { OPENLINEAGE_IMPORT_LOG, OPENLINEAGE_LOG, openLineageContracts, openLineageImportContracts, TRAINER_LOG, trainerContracts } from '@trellis/contracts';
import { TrainerModule } from '../../trainer/src/trainer.module';
import { REGISTRY_LOG, registryContracts } from '@trellis/contracts';
import { AUDIT_LOG, auditContracts } from '@trellis/contracts';
import { RegistryModule } from '../../registry/src/registry.module';
import { RegistryHealth } from '../../registry/src/registry.health';
import { LineageGraphModule } from '../../lineage/src/graph/lineage-graph.module';

/** Every service in one process: the embedded default (DESIGN.md "Runs on one laptop"). */
@Module({})
export class PlatformModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig; storage?: ObjectStorage }): DynamicModule {
    const annotation = AnnotationModule.forRoot();
    const trainer = TrainerModule.forRoot();
    const registry = RegistryModule.forRoot();
    const lineage = LineageGraphModule.forRoot();
    return {
      module: PlatformModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({
          contracts: [
            authContracts,
            annotationContracts,
            ingestionContracts,
            trainerContracts,
            openLineageContracts,
            openLineageImportContracts,
            registryContracts,
            auditContracts,
          ],
        }),
        MessagingModule.forRoot({
          relayLogs: [AUTH_LOG, ANNOTATION_LOG, INGESTION_LOG, TRAINER_LOG, OPENLINEAGE_LOG, OPENLINEAGE_IMPORT_LOG, REGISTRY_LOG, AUDIT_LOG],
          dataOnlyLogs: [OPENLINEAGE_LOG],
          handlers: [annotation.handler, ...trainer.handlers, ...registry.handlers, ...lineage.handlers],
          config: options.messaging,
        }),
        AuthModule,
        StorageModule.forRoot({ storage: options.storage }),
        IngestionModule,
        trellisGraphqlModule(),
        AuditModule,
        annotation.module,
        trainer.module,
        registry.module,
        lineage.module,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: HEALTH_CONTRIBUTORS, inject: [RegistryHealth], useFactory: (r: RegistryHealth) => [r] },
      ],
    };
  }
}
