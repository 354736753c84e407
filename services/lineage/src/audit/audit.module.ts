import { Module } from '@nestjs/common';
import { AuthModule } from '@trellis/auth';
import { ConsoleModule } from '../console/console.module';
import { GraphiqlModule } from '../graphiql/graphiql.module';
import { AuditResolver } from './audit.resolver';
import { AuditTrailQuery } from './audit-trail.query';
import { AuditorQueryPlugin } from './auditor-query.plugin';

/**
 * The audit side of the lineage service: the event logs, their verification, the audit trail
 * across logs, and the plugin that records every auditor's query. GraphiQL and the web
 * console come along here until the lineage service has a module of its own to hold them.
 */
@Module({
  imports: [AuthModule, GraphiqlModule, ConsoleModule],
  providers: [AuditResolver, AuditTrailQuery, AuditorQueryPlugin],
})
export class AuditModule {}
