import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { AuthModule, authContracts } from '@trellis/auth';
import { DatabaseModule, DatabaseMode } from '@trellis/common';
import { formatGraphqlError, HttpExceptionFilter } from '@trellis/errors';
import { EventStoreModule } from '@trellis/event-store';
import { MessagingConfig, MessagingModule } from '@trellis/messaging';
import { AUTH_LOG } from '@trellis/auth';
import { AuditModule } from '../../lineage/src/audit/audit.module';
import { HealthController } from './health/health.controller';

/** Every service in one process: the embedded default (DESIGN.md "Runs on one laptop"). */
@Module({})
export class PlatformModule {
  static forRoot(options: { dataSource: DataSource; databaseMode: DatabaseMode; messaging?: MessagingConfig }): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        DatabaseModule.forDataSource(options.dataSource, options.databaseMode),
        EventStoreModule.forRoot({ contracts: [authContracts] }),
        MessagingModule.forRoot({ relayLogs: [AUTH_LOG], config: options.messaging }),
        AuthModule,
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          playground: false,
          introspection: true,
          context: ({ req }: { req: unknown }) => ({ req }),
          formatError: formatGraphqlError,
        }),
        AuditModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
