import { readFileSync } from 'node:fs';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { platformSchema, printPlatformSchema, SCHEMA_FILE } from '../../scripts/graphql-schema';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

/** Where two texts first differ, for a failure message that says what changed. */
function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i === -1 ? a.length : i;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end of file)')}, code ${JSON.stringify(b[at] ?? '(end of file)')}`;
}

describe('schema.gql (issue 15)', () => {
  let t: PlatformTestApp;
  const committed = readFileSync(SCHEMA_FILE, 'utf8');

  beforeAll(async () => {
    t = await startPlatformTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is the schema the code defines', async () => {
    const generated = printPlatformSchema(await platformSchema());
    if (generated !== committed) {
      throw new Error(`schema.gql is out of date (${firstDifference(committed, generated)}): run \`npm run graphql:schema\` and commit schema.gql`);
    }
  });

  it('is the schema the running platform serves (what npm run graphql:schema generates is what clients get)', async () => {
    const served = printPlatformSchema(t.app.get(GraphQLSchemaHost).schema);
    if (served !== committed) {
      throw new Error(
        `the platform serves another schema than schema.gql (${firstDifference(committed, served)}); if \`npm run graphql:schema\` does not fix it, ` +
          'scripts/graphql-schema.ts misses a resolver the platform has (a resolver provided by useFactory, or a module it does not walk)',
      );
    }
  });
});
