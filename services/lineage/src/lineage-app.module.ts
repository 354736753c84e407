import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { annotationContracts, AUDIT_LOG, auditContracts, ingestionContracts, registryContracts, trainerContracts } from '@trellis/contracts';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { HealthController, HttpExceptionFilter, trellisGraphqlModule } from '@trellis/runtime';
import { AuditModule } from './audit/audit.module';
import { LineageGraphModule } from './graph/lineage-graph.module';

/**
 * The lineage service on its own (the distributed profile): the read side of the whole platform.
 * It consumes every context's topic as the consumer group `lineage`, keeps the lineage graph,
 * and serves it (with the event logs and their verification) over GraphQL. It owns no log of
 * its own but the audit log of auditors' queries.
 */
@Module({})
export class LineageAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig }): DynamicModule {
    const graph = LineageGraphModule.forRoot();
    return {
      module: LineageAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ingestionContracts, annotationContracts, trainerContracts, registryContracts, auditContracts] }),
        MessagingModule.forRoot({ relayLogs: [AUDIT_LOG], handlers: graph.handlers, config: options.messaging }),
        AuthModule,
        trellisGraphqlModule(),
        AuditModule,
        graph.module,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
