import { Controller, Get, HttpCode, Inject, Optional, Res } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '@trellis/auth';
import { DATABASE_MODE, DatabaseMode } from '@trellis/common';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { EVENT_DELIVERY, EventDelivery } from '@trellis/messaging';

export type ComponentHealth = { status: 'up' | 'down' | 'degraded'; [detail: string]: unknown };

/** A service's own component of /health (the registry's: versions holding an alias that need retraining). */
export interface HealthContributor {
  readonly component: string;
  health(): Promise<ComponentHealth>;
}

/** The app module provides the contributors of the services it runs (an array); none by default. */
export const HEALTH_CONTRIBUTORS = Symbol('HEALTH_CONTRIBUTORS');

@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly notifier: LogNotifier,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
    @Inject(EVENT_DELIVERY) private readonly delivery: EventDelivery,
    @Optional() @Inject(HEALTH_CONTRIBUTORS) private readonly contributors: HealthContributor[] = [],
  ) {}

  /** Public on purpose: load balancers and `npm start` users probe it without a token. */
  @Get()
  @Public()
  @HttpCode(200)
  async health(@Res({ passthrough: true }) res: { status(code: number): unknown }) {
    const components: Record<string, ComponentHealth> = {};
    try {
      await this.dataSource.query('SELECT 1');
      const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM trellis_migrations');
      components.database = { status: 'up', mode: this.mode, migrations: n };
    } catch (err) {
      components.database = { status: 'down', mode: this.mode, error: (err as Error).message };
    }
    try {
      components.eventStore = { status: 'up', logs: await this.store.logs() };
    } catch (err) {
      components.eventStore = { status: 'down', error: (err as Error).message };
    }
    components.notifications = this.notifier.listening
      ? { status: 'up', mode: 'listen' }
      : { status: 'degraded', mode: 'polling', detail: 'LISTEN connection unavailable; subscriptions poll' };

    try {
      const d = await this.delivery.status();
      // A broker outage degrades the platform without stopping it: the log is the outbox and
      // the relay catches up when the broker is back.
      const stalled = d.relays.some((r) => r.lastError) || d.consumers.some((c) => c.lastError);
      const status = d.broker && !d.broker.reachable ? 'degraded' : stalled ? 'degraded' : 'up';
      components.messaging = { status, ...d };
    } catch (err) {
      components.messaging = { status: 'degraded', error: (err as Error).message };
    }
    for (const c of this.contributors ?? []) {
      try {
        components[c.component] = await c.health();
      } catch (err) {
        components[c.component] = { status: 'degraded', error: (err as Error).message };
      }
    }
    const statuses = Object.values(components).map((c) => c.status);
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'up';
    if (status === 'down') res.status(503);
    return { status, components };
  }
}
