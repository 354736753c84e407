import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { IngestionAppModule } from './ingestion-app.module';

/** Runs the ingestion service alone (distributed profile): DATABASE_URL, KAFKA_BROKERS, S3_ENDPOINT. */
runServiceMain({
  name: 'ingestion',
  title: 'Trellis ingestion',
  defaultPort: 3001,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, REST docs: /docs',
  module: (dataSource, databaseMode) => IngestionAppModule.forRoot({ dataSource, databaseMode }),
});
