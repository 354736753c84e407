import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ComponentHealth, HealthContributor } from '@trellis/runtime';
import { flaggedAliasHolders } from './models/model.queries';

/**
 * The registry's part of /health: degraded while a version that holds an alias is flagged
 * (subjects of its snapshot withdrew consent or were erased), naming each such version as
 * needing retraining. Counts only; the subjects are in the flag events.
 */
@Injectable()
export class RegistryHealth implements HealthContributor {
  readonly component = 'registry';

  constructor(private readonly dataSource: DataSource) {}

  async health(): Promise<ComponentHealth> {
    const flagged = await flaggedAliasHolders(this.dataSource);
    if (flagged.length === 0) return { status: 'up', needsRetraining: [] };
    return {
      status: 'degraded',
      detail: 'versions holding an alias were flagged: subjects of their snapshots withdrew consent or were erased; retrain them (trellis models retrain)',
      needsRetraining: flagged,
    };
  }
}
