/**
 * The lineage service alone (distributed profile): GraphQL (/graphql) over the lineage graph and
 * the event logs, fed by every context's topic. Same configuration as the platform
 * (DATABASE_URL, KAFKA_BROKERS, S3_*, PORT default 3005).
 */
import 'reflect-metadata';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { LineageAppModule } from './lineage-app.module';

runServiceMain({
  name: 'lineage',
  title: 'Trellis lineage',
  defaultPort: 3005,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, GraphQL: /graphql',
  module: (dataSource, databaseMode) => LineageAppModule.forRoot({ dataSource, databaseMode }),
});
