import 'reflect-metadata';
import { DynamicModule, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DatabaseMode, databaseConfigFromEnv, intFromEnv } from '@trellis/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { hardenHttp } from './http-hardening';
import { setupOpenApi } from './openapi';
import { connectDatabase } from './database.bootstrap';

export interface ServiceProcess {
  /** Logger context and the name in the start-up line, e.g. `ingestion`. */
  name: string;
  /** Title of the OpenAPI document. */
  title: string;
  defaultPort: number;
  /** What the start-up line lists after the address. */
  endpoints: string;
  /** The schema migrations this process applies at start-up (the repository's `migrations/`). */
  migrations: DataSourceOptions['migrations'];
  module(dataSource: DataSource, databaseMode: DatabaseMode): DynamicModule;
}

/**
 * Runs one process of the platform (all services, or one service alone): database, HTTP with
 * OpenAPI, and a graceful shutdown in the order that loses nothing: HTTP first, then consumers
 * and subscriptions finish their in-flight work and commit, and only then does the database
 * (the embedded server included) stop.
 */
export async function runService(service: ServiceProcess): Promise<void> {
  const logger = new Logger(service.name);
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => logger.log(m), service.migrations);
  const app = await NestFactory.create(service.module(db.dataSource, db.mode), { logger: ['log', 'warn', 'error'] });
  hardenHttp(app);
  setupOpenApi(app, service.title);
  const port = intFromEnv(process.env, 'PORT', service.defaultPort);
  const host = process.env.HOST || '127.0.0.1';
  await app.listen(port, host);
  logger.log(`${service.title} listening on http://${host}:${port} (${service.endpoints})`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal}: shutting down`);
    let code = 0;
    try {
      await app.close();
    } catch (err) {
      code = 1;
      logger.error(`shutdown: ${(err as Error).message}`);
    } finally {
      await db.close().catch((err: Error) => logger.error(`closing the database: ${err.message}`));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Entry-point helper: a start-up failure prints its message and exits non-zero. */
export function runServiceMain(service: ServiceProcess): void {
  runService(service).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
