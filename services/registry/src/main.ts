/**
 * The registry service alone (distributed profile): HTTP API, relay of the `registry` log, the
 * consumer of trainer, annotation and ingestion events, webhook delivery, and
 * REGISTRY_EVALUATION_CONCURRENCY evaluation slots taking evaluations from the queue it shares
 * with every other registry process. Same configuration as the platform (DATABASE_URL,
 * KAFKA_BROKERS, S3_*, PORT default 3004).
 */
import 'reflect-metadata';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { RegistryAppModule } from './registry-app.module';

runServiceMain({
  name: 'registry',
  title: 'Trellis registry',
  defaultPort: 3004,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, REST docs: /docs',
  module: (dataSource, databaseMode) => RegistryAppModule.forRoot({ dataSource, databaseMode }),
});
