/**
 * The trainer service alone (distributed profile): HTTP API, relay of the `trainer` log, the
 * consumer of ingestion and annotation events, and TRAINER_CONCURRENCY run slots taking runs from
 * the queue it shares with every other trainer process. Same configuration as the platform
 * (DATABASE_URL, KAFKA_BROKERS, S3_*, PORT default 3003).
 */
import 'reflect-metadata';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { TrainerAppModule } from './trainer-app.module';

runServiceMain({
  name: 'trainer',
  title: 'Trellis trainer',
  defaultPort: 3003,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, REST docs: /docs',
  module: (dataSource, databaseMode) => TrainerAppModule.forRoot({ dataSource, databaseMode }),
});
