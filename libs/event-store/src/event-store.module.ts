import { DynamicModule, Global, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventContractRegistry } from '@trellis/contracts';
import { LogNotifier } from './log-notifier';
import { PostgresEventStore } from './postgres-event-store';
import { ProjectionRunner } from './projection-runner';

/** The event store, the LISTEN notifier and the projection runner, shared by every service module. */
@Global()
@Module({})
export class EventStoreModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(LogNotifier) private readonly notifier: LogNotifier,
    @Inject(ProjectionRunner) private readonly projections: ProjectionRunner,
  ) {}

  static forRoot(options: { contracts: EventContractRegistry[] }): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [
        {
          provide: EventContractRegistry,
          useFactory: () => options.contracts.reduce((all, c) => all.include(c), new EventContractRegistry()),
        },
        {
          provide: PostgresEventStore,
          inject: [DataSource, EventContractRegistry],
          useFactory: (ds: DataSource, registry: EventContractRegistry) => new PostgresEventStore(ds, registry),
        },
        {
          provide: LogNotifier,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new LogNotifier((ds.options as { url: string }).url),
        },
        {
          provide: ProjectionRunner,
          inject: [DataSource, PostgresEventStore, LogNotifier],
          useFactory: (ds: DataSource, store: PostgresEventStore, n: LogNotifier) => new ProjectionRunner(ds, store, n),
        },
      ],
      exports: [EventContractRegistry, PostgresEventStore, LogNotifier, ProjectionRunner],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.notifier.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projections.stopAll();
    await this.notifier.stop();
  }
}
