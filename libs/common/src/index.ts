export * from './database/data-source.factory';
export * from './database/database.config';
export * from './database/embedded-postgres.launcher';
export * from './database/transaction';
export * from './database/database.module';
export * from './secrets/local-secret';
export * from './clock';
export * from './database/embedded-postgres.supervisor';
