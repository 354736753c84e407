import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseMode, DatabaseModule } from '@trellis/common';
import { AUDIT_LOG, auditContracts, OPENLINEAGE_IMPORT_LOG, OPENLINEAGE_LOG } from '@trellis/contracts';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { HealthController, HttpExceptionFilter, trellisGraphqlModule } from '@trellis/runtime';
import { AuditModule } from './audit/audit.module';
import { LINEAGE_CONTRACTS, LineageGraphModule } from './graph/lineage-graph.module';

/**
 * The lineage service on its own (the distributed profile): the read side of the whole platform.
 * It consumes every context's topic as the consumer group `lineage`, keeps the lineage graph,
 * and serves it (with the event logs and their verification) over GraphQL. Its own logs: the
 * audit log of auditors' queries, and the OpenLineage events other tools send it.
 */
@Module({})
export class LineageAppModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig }): DynamicModule {
    const graph = LineageGraphModule.forRoot();
    return {
      module: LineageAppModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts, ...LINEAGE_CONTRACTS, auditContracts] }),
        MessagingModule.forRoot({
          relayLogs: [AUDIT_LOG, OPENLINEAGE_IMPORT_LOG],
          // The trainer publishes its OpenLineage events as the RunEvent JSON itself; this service reads them so.
          dataOnlyLogs: [OPENLINEAGE_LOG],
          handlers: graph.handlers,
          config: options.messaging,
        }),
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
