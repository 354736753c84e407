import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';

/**
 * Log `openlineage` (topic `trellis.openlineage.v1`): every training run's OpenLineage 2-0-2 run
 * events (START, RUNNING, COMPLETE, FAIL, ABORT), kept in the event log so that none is lost, and
 * published to Kafka as the RunEvent JSON itself, which OpenLineage consumers read as it is. The
 * trainer builds them against the official schema; this contract checks their frame.
 */
export const OPENLINEAGE_LOG = 'openlineage';

export const OpenLineageRunEventV1 = z
  .object({
    eventType: z.enum(['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL']),
    eventTime: z.string().datetime({ offset: true }),
    producer: z.string().url(),
    schemaURL: z.string().url(),
    run: z.object({ runId: z.string().uuid() }).passthrough(),
    job: z.object({ namespace: z.string().min(1), name: z.string().min(1) }).passthrough(),
    inputs: z.array(z.object({ namespace: z.string().min(1), name: z.string().min(1) }).passthrough()).max(100),
    outputs: z.array(z.object({ namespace: z.string().min(1), name: z.string().min(1) }).passthrough()).max(100),
  })
  .passthrough();

export type OpenLineageRunEventRecorded = { type: 'OpenLineageRunEvent'; data: z.infer<typeof OpenLineageRunEventV1> };

export const openLineageContracts = new EventContractRegistry<never>().register({ type: 'OpenLineageRunEvent', version: 1, schema: OpenLineageRunEventV1 });
