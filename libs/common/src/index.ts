export * from './database/data-source.factory';
export * from './database/database.config';
export * from './database/embedded-postgres.launcher';
