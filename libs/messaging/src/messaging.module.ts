import { DynamicModule, Global, Inject, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventContractRegistry } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import type { EventDelivery } from './event-delivery';
import type { EventHandler } from './event-handler';
import { InProcessDelivery } from './in-process/in-process-delivery';
import { Inbox } from './inbox';
import { KafkaDelivery } from './kafka/kafka-delivery';
import { MessagingConfig, messagingConfigFromEnv } from './messaging.config';

export const EVENT_DELIVERY = Symbol('EVENT_DELIVERY');
export const EVENT_HANDLERS = Symbol('EVENT_HANDLERS');

export interface MessagingModuleOptions {
  /** Logs this process owns (relayed to Kafka in the distributed profile). */
  relayLogs: string[];
  /** Logs whose Kafka messages carry their events' data alone (a standard other tools read, e.g. OpenLineage): so published, and so read. */
  dataOnlyLogs?: string[];
  handlers?: EventHandler[];
  config?: MessagingConfig;
}

/** Chooses the delivery from configuration (KAFKA_BROKERS or TRELLIS_MESSAGING) and runs it with the app. */
@Global()
@Module({})
export class MessagingModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('messaging');

  constructor(@Inject(EVENT_DELIVERY) private readonly delivery: EventDelivery) {}

  static forRoot(options: MessagingModuleOptions): DynamicModule {
    const config = options.config ?? messagingConfigFromEnv();
    return {
      module: MessagingModule,
      providers: [
        { provide: EVENT_HANDLERS, useValue: options.handlers ?? [] },
        {
          provide: EVENT_DELIVERY,
          inject: [DataSource, PostgresEventStore, LogNotifier, EventContractRegistry, EVENT_HANDLERS],
          useFactory: (ds: DataSource, store: PostgresEventStore, notifier: LogNotifier, registry: EventContractRegistry, handlers: EventHandler[]) => {
            const inbox = new Inbox(config.retry);
            const logger = new Logger('kafka');
            return config.mode === 'kafka'
              ? new KafkaDelivery(ds, store, notifier, registry, inbox, config, {
                  relayLogs: options.relayLogs,
                  dataOnlyLogs: options.dataOnlyLogs,
                  handlers,
                  log: (m) => logger.warn(m),
                })
              : new InProcessDelivery(ds, store, notifier, registry, inbox, handlers);
          },
        },
      ],
      exports: [EVENT_DELIVERY],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.delivery.start();
    this.logger.log(`event delivery: ${this.delivery.mode}`);
  }

  /** Runs after the HTTP server stopped taking requests: finish in-flight messages, commit, leave. */
  async onApplicationShutdown(): Promise<void> {
    await this.delivery.stop();
  }
}
