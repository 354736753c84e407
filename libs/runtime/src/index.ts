// What every service process needs: the process runner, database start-up, HTTP and GraphQL
// error mapping, OpenAPI and health. Services import this; they never import each other.
export * from './run-service';
export * from './database.bootstrap';
export * from './openapi';
export * from './http-exception.filter';
export * from './graphql-error.formatter';
export * from './health/health.controller';
export * from './graphql-limits';
export * from './graphql.module-options';
export * from './http-hardening';
export * from './safe-input.pipe';
export * from './database-unavailable';
export * from './fork-worker';
