import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deidentificationBySnapshot } from '../graph/provenance.queries';
import { LineageErrorCode, LineageException } from '../lineage.exception';

/** A producer URI names the code that adds the facets (the trainer's events keep their own). */
export const LINEAGE_OPENLINEAGE_PRODUCER = 'https://github.com/trellis/trellis/tree/0.1.0/services/lineage';
const FACET_SCHEMA = 'https://github.com/trellis/trellis/tree/0.1.0/services/lineage/src/openlineage/facets.json#/$defs/';

export interface OpenLineagePage {
  events: Record<string, unknown>[];
  /** Pass as `after` for the next page; null at the end of the log. */
  next: number | null;
}

interface Coverage {
  includedItems: number;
  excludedItems: number;
  includedSubjects: number;
  excluded: { reason: string; count: number }[];
  consentAsOf: string;
  merkleRoot: string;
}

function whole(value: string | undefined, field: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new LineageException(LineageErrorCode.InvalidQuery, `${field} must be a whole number from ${min} to ${max}`, [`query.${field}`]);
  return n;
}

/**
 * Training runs as OpenLineage run events, for Marquez, DataHub or any OpenLineage consumer: the
 * events the trainer recorded in the `openlineage` log, in log order, each with two custom run
 * facets from the lineage graph: the snapshot's consent coverage (included and excluded items and
 * why, the consent time, the Merkle root) and the de-identification behind the snapshot's images.
 */
@Injectable()
export class OpenLineageExportQuery {
  constructor(private readonly dataSource: DataSource) {}

  async runs(afterParam: string | undefined, limitParam: string | undefined): Promise<OpenLineagePage> {
    const after = whole(afterParam, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = whole(limitParam, 'limit', 100, 1, 1000);
    const rows: { position: string; data: Record<string, unknown> & { run: { runId: string; facets?: Record<string, unknown> } } }[] =
      await this.dataSource.query(`SELECT position, data FROM trellis_events WHERE log = 'openlineage' AND position > $1 ORDER BY position LIMIT $2`, [
        after,
        limit + 1,
      ]);
    const page = rows.slice(0, limit);
    const runIds = [...new Set(page.map((r) => r.data.run.runId))];
    const snapshots: { id: string; attrs: Coverage }[] = await this.dataSource.query(`SELECT id, attrs FROM lineage_nodes WHERE id = ANY($1::text[])`, [
      runIds.map((id) => `snapshot:${id}`),
    ]);
    const deid = await deidentificationBySnapshot(
      this.dataSource,
      runIds.map((id) => `snapshot:${id}`),
      new Date(),
    );
    const coverage = new Map(snapshots.map((s) => [s.id, s.attrs]));
    const facet = (name: string, fields: Record<string, unknown>) => ({
      _producer: LINEAGE_OPENLINEAGE_PRODUCER,
      _schemaURL: `${FACET_SCHEMA}${name}`,
      ...fields,
    });
    const events = page.map((r) => {
      const snapshot = `snapshot:${r.data.run.runId}`;
      const c = coverage.get(snapshot);
      const extra: Record<string, unknown> = {};
      if (c) {
        extra.trellis_consentCoverage = facet('TrellisConsentCoverageRunFacet', {
          includedItems: c.includedItems,
          excludedItems: c.excludedItems,
          includedSubjects: c.includedSubjects,
          excluded: c.excluded,
          consentAsOf: c.consentAsOf,
          merkleRoot: c.merkleRoot,
        });
        extra.trellis_deidentification = facet('TrellisDeidentificationRunFacet', {
          methods: deid.filter((d) => d.snapshot === snapshot).map(({ method, assets }) => ({ method, assets })),
        });
      }
      return { ...r.data, run: { ...r.data.run, facets: { ...(r.data.run.facets ?? {}), ...extra } } };
    });
    return { events, next: rows.length > limit ? Number(page[page.length - 1].position) : null };
  }
}
