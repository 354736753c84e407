import { z } from 'zod';
import { EventContractRegistry } from './event-contract.registry';
import { LOWERCASE_UUID_PATTERN } from './uuid';

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

/**
 * Log `openlineage-import` (topic `trellis.openlineage-import.v1`): OpenLineage run events that
 * tools outside Trellis sent to `POST /api/v1/lineage`, so their jobs and datasets join the
 * lineage graph. Their names (namespaces such as `postgres://host:5432`, dataset paths) are text
 * from outside that the immutable log must not hold: the event as received is kept in the object
 * storage (erasable) and the log records only its hash, the run id, the event type and time.
 */
export const OPENLINEAGE_IMPORT_LOG = 'openlineage-import';
export const openLineageImportStream = (runId: string) => `openlineage-import-${runId}`;

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);

export const ExternalRunEventImportedV1 = z
  .object({
    runId: z.string().regex(LOWERCASE_UUID_PATTERN),
    eventType: z.enum(['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']),
    eventTime: z.string().datetime({ offset: true }),
    /** The event as received (its JSON), content-addressed in the `artifacts` area. */
    artifact: z.object({ key: z.string().min(1).max(300), sha256: SHA256, size: z.number().int().positive() }).strict(),
    /** SHA-256 of `<job namespace>\n<job name>`: which job, without its name. */
    jobSha256: SHA256,
    inputs: z.number().int().min(0).max(100),
    outputs: z.number().int().min(0).max(100),
  })
  .strict();

export type ExternalRunEventImported = { type: 'ExternalRunEventImported'; data: z.infer<typeof ExternalRunEventImportedV1> };

export const openLineageImportContracts = new EventContractRegistry<never>().register({
  type: 'ExternalRunEventImported',
  version: 1,
  schema: ExternalRunEventImportedV1,
});
