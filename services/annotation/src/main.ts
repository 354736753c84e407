/**
 * The annotation service alone (distributed profile): HTTP API, relay of the `annotation` log
 * and the consumer of ingestion events. Same configuration as the platform (DATABASE_URL,
 * KAFKA_BROKERS, S3_*, PORT default 3002).
 */
import 'reflect-metadata';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { AnnotationAppModule } from './annotation-app.module';

runServiceMain({
  name: 'annotation',
  title: 'Trellis annotation',
  defaultPort: 3002,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, REST docs: /docs',
  module: (dataSource, databaseMode) => AnnotationAppModule.forRoot({ dataSource, databaseMode }),
});
