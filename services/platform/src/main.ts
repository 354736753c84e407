import { PlatformModule } from './platform.module';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';

/** Every service in one process: the embedded default (`npm start`). */
runServiceMain({
  name: 'trellis',
  title: 'Trellis platform',
  defaultPort: 3000,
  migrations: MIGRATIONS,
  endpoints: 'health: /health, GraphQL: /graphql, REST docs: /docs',
  module: (dataSource, databaseMode) => PlatformModule.forRoot({ dataSource, databaseMode }),
});
