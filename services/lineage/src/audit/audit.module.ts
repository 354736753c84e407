import { Module } from '@nestjs/common';
import { AuthModule } from '@trellis/auth';
import { ConsoleModule } from '../console/console.module';
import { GraphiqlModule } from '../graphiql/graphiql.module';
import { AuditResolver } from './audit.resolver';
import { AuditTrailIndexer } from './audit-trail.indexer';
import { AuditTrailQuery } from './audit-trail.query';
import { AuditorQueryPlugin } from './auditor-query.plugin';

/**
 * The audit side of the lineage service: the event logs, their verification, the audit trail
 * across logs (with the indexer that keeps its sortable copy), and the plugin that records every auditor's query. GraphiQL and the web
 * console come along here until the lineage service has a module of its own to hold them.
 */
@Module({
  imports: [AuthModule, GraphiqlModule, ConsoleModule],
  providers: [AuditResolver, AuditTrailIndexer, AuditTrailQuery, AuditorQueryPlugin],
})
export class AuditModule {}
