import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger } from '@nestjs/common';
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
  /** Work to do once the process listens (the platform's demo), given the application and its address; a failure is logged, the process keeps serving. */
  afterListen?(app: INestApplication, url: string): Promise<void>;
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
  if (service.afterListen) {
    service.afterListen(app, `http://${host}:${port}`).catch((err: Error) => logger.error(err.message));
  }

  // Work that hangs (a request stuck on the database, a consumer that does not finish) must not
  // keep the process alive: after this long it exits anyway, and a second signal exits at once.
  const shutdownTimeoutMs = intFromEnv(process.env, 'TRELLIS_SHUTDOWN_TIMEOUT_MS', 30_000, 0);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    logger.log(`${signal}: shutting down (at most ${shutdownTimeoutMs} ms)`);
    const deadline = Date.now() + shutdownTimeoutMs;
    let code = 0;
    try {
      await withDeadline(app.close(), deadline, 'closing the application');
    } catch (err) {
      code = 1;
      logger.error(`shutdown: ${(err as Error).message}`);
    } finally {
      // The database gets its own few seconds even when the application used up the deadline:
      // an embedded server left running would outlive the process.
      await withDeadline(db.close(), Math.max(deadline, Date.now() + 5_000), 'closing the database').catch((err: Error) => {
        code = 1;
        logger.error(err.message);
      });
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** `work`, or a rejection naming `what` once `deadline` (epoch ms) has passed; the timer does not keep the process up. */
export function withDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in time`)), Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Entry-point helper: a start-up failure prints its message and exits non-zero. */
export function runServiceMain(service: ServiceProcess): void {
  runService(service).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
