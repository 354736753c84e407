import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Actor, ExternalRunEventImported, OPENLINEAGE_IMPORT_LOG, openLineageImportStream } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import type { ObjectStorage } from '@trellis/storage';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { LINEAGE_STORAGE } from '../lineage.storage';
import { parseExternalRunEvent } from './external-run-event';

export interface ImportedRunEvent {
  runId: string;
  eventType: string;
  /** `recorded`: appended now; `duplicate`: the same event was received before (clients retry), nothing appended. */
  outcome: 'recorded' | 'duplicate';
  /** The event's position in the `openlineage-import` log. */
  position: number;
}

/**
 * `POST /api/v1/lineage`: an OpenLineage run event from another tool (Airflow, Spark, dbt, a
 * preprocessing script) joins the lineage graph. The event is checked, kept as received in the
 * object storage (its names are text from outside, which the immutable log must not hold), and
 * recorded in the `openlineage-import` log by hash; the lineage consumer then adds its run, job and
 * datasets to the graph. Posting the same event twice records it once.
 */
@Injectable()
export class OpenLineageImport {
  constructor(
    private readonly store: PostgresEventStore,
    @Inject(LINEAGE_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  async receive(body: unknown, actor: Actor): Promise<ImportedRunEvent> {
    const parsed = parseExternalRunEvent(body);
    if (!parsed.ok) throw new LineageException(LineageErrorCode.InvalidLineageEvent, parsed.message, parsed.fields);
    const e = parsed.event;
    const runId = e.run.runId.toLowerCase();
    const eventType = e.eventType ?? 'OTHER';
    const bytes = Buffer.from(JSON.stringify(e), 'utf8');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stream = openLineageImportStream(runId);
    const earlier = (await this.store.readStream(OPENLINEAGE_IMPORT_LOG, stream)).find(
      (x) => (x.data as ExternalRunEventImported['data']).artifact.sha256 === sha256,
    );
    if (earlier) return { runId, eventType, outcome: 'duplicate', position: earlier.position };
    // The bytes first: an append that fails leaves an unreferenced object, never an event without its bytes.
    const stored = await this.storage.putBuffer('artifacts', bytes, { prefix: 'openlineage-import/', contentType: 'application/json', sha256 });
    const data: ExternalRunEventImported['data'] = {
      runId,
      eventType,
      eventTime: e.eventTime,
      artifact: { key: stored.key, sha256, size: stored.size },
      jobSha256: createHash('sha256').update(`${e.job.namespace}\n${e.job.name}`).digest('hex'),
      inputs: e.inputs?.length ?? 0,
      outputs: e.outputs?.length ?? 0,
    };
    const appended = await this.store.append(
      OPENLINEAGE_IMPORT_LOG,
      stream,
      [{ type: 'ExternalRunEventImported', data }],
      { actor },
      { expectedVersion: 'any' },
    );
    return { runId, eventType, outcome: 'recorded', position: appended.lastPosition };
  }
}
