/**
 * `npm run graphql:schema`: writes the platform's GraphQL schema, as the code defines it, to
 * schema.gql at the repository root (committed, so that a change to the API shows in review;
 * test/lineage/graphql-schema.e2e-spec.ts fails when the file is out of date). Needs no database:
 * the resolvers are found by walking the platform's module tree, as Nest would, without starting
 * anything.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { PlatformModule } from '../services/platform/src/platform.module';

export const SCHEMA_FILE = join(__dirname, '..', 'schema.gql');

const HEADER = '# The GraphQL schema of the platform, generated from the code by `npm run graphql:schema`; do not edit.\n\n';

type ModuleRef = Type<unknown> | DynamicModule | Promise<DynamicModule> | { forwardRef: () => unknown } | undefined;

/** Every class a module tree provides (resolvers among them): what Nest's resolver explorer sees. */
async function providerClasses(root: ModuleRef): Promise<Type<unknown>[]> {
  const seen = new Set<unknown>();
  const classes = new Set<Type<unknown>>();
  const visit = async (ref: ModuleRef): Promise<void> => {
    const m = ref instanceof Promise ? await ref : ref;
    if (!m || seen.has(m)) return;
    seen.add(m);
    if (typeof m === 'object' && 'forwardRef' in m) return visit(m.forwardRef() as ModuleRef);
    const cls = typeof m === 'function' ? m : m.module;
    const dynamic: Partial<DynamicModule> = typeof m === 'function' ? {} : m;
    const providers: Provider[] = [...(Reflect.getMetadata('providers', cls) ?? []), ...(dynamic.providers ?? [])];
    for (const p of providers) {
      if (typeof p === 'function') classes.add(p);
      else if ('useClass' in p) classes.add(p.useClass);
    }
    for (const i of [...(Reflect.getMetadata('imports', cls) ?? []), ...(dynamic.imports ?? [])]) await visit(i);
  };
  await visit(root);
  return [...classes];
}

/** The schema as graphql-js prints it, sorted as the server sorts it (sortSchema). */
export function printPlatformSchema(schema: GraphQLSchema): string {
  return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}

/** The platform's schema built from its resolvers alone; the module tree is only read, never started. */
export async function platformSchema(): Promise<GraphQLSchema> {
  const resolvers = await providerClasses(PlatformModule.forRoot({ dataSource: {} as DataSource, databaseMode: 'external' }));
  const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, { logger: false });
  try {
    return await app.get(GraphQLSchemaFactory).create(resolvers);
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  writeFileSync(SCHEMA_FILE, printPlatformSchema(await platformSchema()));
  console.log(`wrote ${SCHEMA_FILE}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`graphql:schema: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
