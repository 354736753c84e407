import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OPENLINEAGE_LOG } from '@trellis/contracts';
import { CatchUpSubscription, LogNotifier, PostgresEventStore } from '@trellis/event-store';
import type { OpenLineageRunEvent } from './openlineage-event';
import { OpenLineageHttpTransport } from './openlineage-http.transport';

/**
 * When OPENLINEAGE_URL is set, POSTs every run event of the `openlineage` log to it, in log order,
 * from a checkpointed subscription: a restart goes on where it stopped, so an endpoint that was
 * down is sent what it missed. An event the endpoint still refuses after the transport's retries
 * is logged (status only, never the event) and passed over; it stays in the log and on Kafka.
 */
@Injectable()
export class OpenLineageForwarder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OpenLineage');
  private subscription?: CatchUpSubscription;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier: LogNotifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const transport = OpenLineageHttpTransport.fromEnv(process.env, { logger: this.logger });
    if (!transport) return;
    this.logger.log(`run events go to ${new URL(transport.endpointUrl).origin} too`);
    this.subscription = new CatchUpSubscription(this.dataSource, this.store, this.notifier, {
      id: 'trainer-openlineage-http',
      log: OPENLINEAGE_LOG,
      handler: async (e) => {
        const result = await transport.send(e.data as OpenLineageRunEvent);
        if (!result.delivered) this.logger.warn(`run event at position ${e.position} not accepted after ${result.attempts} attempt(s): ${result.reason}`);
      },
    });
    await this.subscription.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
