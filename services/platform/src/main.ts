import type { INestApplication } from '@nestjs/common';
import { ApiTokenUseCases } from '@trellis/auth';
import { runServiceMain } from '@trellis/runtime';
import { MIGRATIONS } from '../../../migrations';
import { DemoJourney } from './demo/demo-journey';
import { PlatformModule } from './platform.module';

const USAGE = `usage: npm start [-- --demo]
  Runs every service in one process on the embedded default (PostgreSQL, in-process events, files
  in TRELLIS_DATA_DIR, default .trellis/data) and keeps serving until Ctrl-C; the web console is
  at /console (sign in with an API token: npm run token -- create --roles auditor --label you).
  --demo  then walks the whole lifecycle through the public APIs with synthetic data (see
          trellis demo --help); running it again reuses what the first run made.`;

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--demo');
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
} else if (unknown.length > 0) {
  console.error(`unknown argument ${JSON.stringify(unknown[0])}\n${USAGE}`);
  process.exit(2);
}

/**
 * The demo inside the platform: an admin token is issued in-process (there is nobody yet to ask
 * for one), and everything else goes through the HTTP and GraphQL APIs the process just opened.
 */
async function demo(app: INestApplication, url: string): Promise<void> {
  const admin = await app
    .get(ApiTokenUseCases)
    .issue(
      { label: 'trellis demo: admin', roles: ['admin'], expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString() },
      { id: 'trellis-demo', role: 'admin' },
    );
  try {
    const outcome = await new DemoJourney({ baseUrl: url, adminToken: admin.token, say: (l) => console.log(l), note: (l) => console.error(l) }).run();
    console.log(`\nThe platform keeps running at ${url}. Ask on as the demo's auditor (the token expires in a day):`);
    console.log(`  export TRELLIS_URL=${url} TRELLIS_TOKEN=${outcome.auditorToken}`);
    console.log(`  npm run trellis -- lineage provenance ${outcome.modelVersionId}`);
    // The fragment is never sent to a server: the console moves the token into the tab's storage.
    console.log(`Or look: ${url}/console/#token=${outcome.auditorToken}  (the champion's provenance graph)`);
    console.log('demo finished');
  } catch (err) {
    console.error(`demo failed: ${(err as Error).message}`);
  }
}

/** Every service in one process: the embedded default (`npm start`). */
runServiceMain({
  name: 'trellis',
  title: 'Trellis platform',
  defaultPort: 3000,
  migrations: MIGRATIONS,
  endpoints:
    'REST: /ingestion, /annotation, /training, /registry, /auth; OpenAPI: /docs (JSON /docs-json); GraphQL: /graphql; GraphiQL: /graphiql; console: /console; health: /health',
  module: (dataSource, databaseMode) => PlatformModule.forRoot({ dataSource, databaseMode }),
  afterListen: args.includes('--demo') ? demo : undefined,
});
