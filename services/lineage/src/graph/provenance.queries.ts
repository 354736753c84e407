import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ids } from './graph-changes';
import { GraphNode, LineageQueries } from './lineage.queries';

/** Log positions an answer rests on: per log, how many events and which (ascending). */
export interface RestsOn {
  log: string;
  events: number;
  positions: number[];
}

export interface ModelProvenance {
  modelVersion: GraphNode;
  baseModel: GraphNode | null;
  training: GraphNode | null;
  requestedBy: string[];
  snapshot: GraphNode | null;
  annotationSets: GraphNode[];
  annotators: string[];
  reviewers: string[];
  datasetVersions: GraphNode[];
  assets: number;
  subjects: number;
  consents: number;
  /** De-identification method -> curated assets it produced, among the snapshot's. */
  deidentification: { method: string; assets: number }[];
  evaluations: GraphNode[];
  promotions: GraphNode[];
  approvers: string[];
  restsOn: RestsOn[];
}

export interface ConsentImpact {
  subject: GraphNode;
  consents: GraphNode[];
  assets: GraphNode[];
  datasetVersions: GraphNode[];
  annotationSets: GraphNode[];
  snapshots: GraphNode[];
  trainingRuns: GraphNode[];
  modelVersions: GraphNode[];
}

/**
 * For each snapshot, the de-identification methods behind its curated images and how many
 * images each produced (curated asset -> wasGeneratedBy -> de-identification activity).
 */
export async function deidentificationBySnapshot(
  db: DataSource,
  snapshotIds: string[],
  asOf: Date,
): Promise<{ snapshot: string; method: string; assets: number }[]> {
  const rows: { snapshot: string; method: string; assets: string }[] = await db.query(
    `SELECT c.from_id AS snapshot, n.attrs->>'method' AS method, count(DISTINCT c.to_id) AS assets
     FROM lineage_edges c JOIN lineage_edges g ON g.from_id = c.to_id AND g.type = 'wasGeneratedBy' JOIN lineage_nodes n ON n.id = g.to_id AND n.type = 'deidentification'
     WHERE c.from_id = ANY($1::text[]) AND c.type = 'wasDerivedFrom' AND starts_with(c.to_id, 'curated-asset:') AND c.valid_from <= $2 AND g.valid_from <= $2
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [snapshotIds, asOf],
  );
  return rows.map((r) => ({ snapshot: r.snapshot, method: r.method, assets: Number(r.assets) }));
}

/** How many positions an answer lists per log at most (the count is always whole). */
const MAX_POSITIONS = 10_000;

/** Every moment: a snapshot's items hold from before it exists. */
const FOREVER = new Date('9999-12-31T00:00:00Z');

interface SnapshotFacts {
  setIds: string[];
  annotation: string[];
  datasetIds: string[];
  assets: number;
  subjectIds: string[];
  deidentification: { method: string; assets: number }[];
  restsOn: { log: string; positions: number[] }[];
}

function mergeCounts(counts: { method: string; assets: number }[]): { method: string; assets: number }[] {
  const by = new Map<string, number>();
  for (const c of counts) by.set(c.method, (by.get(c.method) ?? 0) + c.assets);
  return [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([method, assets]) => ({ method, assets }));
}

/**
 * The two questions auditors ask most, each a handful of set-based statements over the graph (no
 * statement per node), as of a moment: where a model version came from, and what a subject's
 * data reached.
 */
@Injectable()
export class ProvenanceQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly graph: LineageQueries,
  ) {}

  /** Targets of edges of `type` from any of `from`, as of `asOf`. */
  private async targets(from: string[], type: string, asOf: Date, toPrefix?: string): Promise<string[]> {
    if (from.length === 0) return [];
    const rows: { to_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT to_id FROM lineage_edges WHERE from_id = ANY($1::text[]) AND type = $2 AND valid_from <= $3 AND ($4::text IS NULL OR starts_with(to_id, $4)) ORDER BY to_id`,
      [from, type, asOf, toPrefix ?? null],
    );
    return rows.map((r) => r.to_id);
  }

  /** Sources of edges of `type` into any of `to`, as of `asOf`. */
  private async sources(to: string[], type: string, asOf: Date, fromPrefix?: string): Promise<string[]> {
    if (to.length === 0) return [];
    const rows: { from_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT from_id FROM lineage_edges WHERE to_id = ANY($1::text[]) AND type = $2 AND valid_from <= $3 AND ($4::text IS NULL OR starts_with(from_id, $4)) ORDER BY from_id`,
      [to, type, asOf, fromPrefix ?? null],
    );
    return rows.map((r) => r.from_id);
  }

  private async associated(activities: string[], role: string, asOf: Date): Promise<string[]> {
    if (activities.length === 0) return [];
    const rows: { to_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT to_id FROM lineage_edges WHERE from_id = ANY($1::text[]) AND type = 'wasAssociatedWith' AND attrs->>'role' = $2 AND valid_from <= $3 ORDER BY to_id`,
      [activities, role, asOf],
    );
    return rows.map((r) => r.to_id.replace(/^person:/, ''));
  }

  async modelProvenance(modelVersionId: string, asOf: Date): Promise<ModelProvenance | null> {
    const mvId = ids.modelVersion(modelVersionId);
    const [modelVersion] = await this.graph.nodes([mvId], asOf);
    if (!modelVersion) return null;
    const training = await this.targets([mvId], 'wasGeneratedBy', asOf, 'training:');
    const derived = await this.targets([mvId], 'wasDerivedFrom', asOf);
    const snapshotIds = derived.filter((d) => d.startsWith('snapshot:'));
    const baseIds = derived.filter((d) => d.startsWith('base-model:'));
    const evaluationIds = await this.sources([mvId], 'wasDerivedFrom', asOf, 'evaluation:');
    const promotionIds = await this.sources([mvId], 'used', asOf, 'promotion:');
    const facts = await this.snapshotFacts(snapshotIds);
    const { setIds, annotation, datasetIds } = facts;
    // Consents change over time (one recorded later, one withdrawn): counted as of the moment asked.
    const [{ consents }]: { consents: string }[] = await this.dataSource.query(
      `SELECT count(DISTINCT from_id) AS consents FROM lineage_edges WHERE to_id = ANY($1::text[]) AND starts_with(from_id, 'consent:') AND valid_from <= $2`,
      [facts.subjectIds, asOf],
    );
    // The snapshot, its sets and their dataset versions fan out to every item: the events that
    // recorded those edges are the ones that recorded the nodes themselves, so for them the
    // answer rests on their nodes and states, and their edges are not read again.
    const fanOut = [...snapshotIds, ...setIds, ...datasetIds];
    const involved = [mvId, ...training, ...baseIds, ...annotation, ...evaluationIds, ...promotionIds];
    const byId = new Map((await this.graph.nodes([...involved, ...fanOut], asOf)).map((n) => [n.id, n]));
    const pick = (xs: string[]) => xs.map((x) => byId.get(x)).filter((n): n is GraphNode => n !== undefined);
    return {
      modelVersion,
      baseModel: pick(baseIds)[0] ?? null,
      training: pick(training)[0] ?? null,
      requestedBy: await this.associated(training, 'requester', asOf),
      snapshot: pick(snapshotIds)[0] ?? null,
      annotationSets: pick(setIds),
      annotators: await this.associated(annotation, 'annotator', asOf),
      reviewers: await this.associated(annotation, 'reviewer', asOf),
      datasetVersions: pick(datasetIds),
      assets: facts.assets,
      subjects: facts.subjectIds.length,
      consents: Number(consents),
      deidentification: facts.deidentification,
      evaluations: pick(evaluationIds),
      promotions: pick(promotionIds),
      approvers: await this.associated(promotionIds, 'approver', asOf),
      restsOn: await this.restsOn(involved, fanOut, facts.restsOn, asOf),
    };
  }

  /**
   * Every event the answer rests on: those that recorded the nodes named, the edges from them and
   * the states read (as of the moment), and those that recorded the snapshot's items down to their
   * subjects (the snapshot's facts); so an auditor can check each against the hash chain
   * (verifyAuditChain).
   */
  private async restsOn(involved: string[], fanOut: string[], items: { log: string; positions: number[] }[], asOf: Date): Promise<RestsOn[]> {
    const rows: { log: string; positions: string[] }[] = await this.dataSource.query(
      `WITH chain AS (
              SELECT log, position FROM lineage_nodes WHERE id = ANY($1::text[] || $2::text[]) AND valid_from <= $3
              UNION SELECT log, position FROM lineage_edges WHERE from_id = ANY($1::text[]) AND valid_from <= $3
              UNION SELECT log, position FROM lineage_node_states WHERE node_id = ANY($1::text[] || $2::text[]) AND valid_from <= $3)
       SELECT log, array_agg(DISTINCT position) AS positions FROM chain GROUP BY log`,
      [involved, fanOut, asOf],
    );
    const byLog = new Map<string, Set<number>>();
    for (const r of [...rows.map((x) => ({ log: x.log, positions: x.positions.map(Number) })), ...items]) {
      const set = byLog.get(r.log) ?? new Set<number>();
      for (const p of r.positions) set.add(p);
      byLog.set(r.log, set);
    }
    return [...byLog]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([log, set]) => {
        const positions = [...set].sort((a, b) => a - b);
        return { log, events: positions.length, positions: positions.slice(0, MAX_POSITIONS) };
      });
  }

  /**
   * A snapshot's items as modelProvenance reads them: how many curated assets, their subjects,
   * the de-identification behind them and the positions of the events that recorded them. They
   * do not change once the snapshot exists (its items were ingested before it was frozen), so
   * they are computed once, when every item is in the graph, and kept in lineage_snapshot_facts;
   * while the lineage still waits for some item's ingestion they are computed on each request.
   */
  private async snapshotFacts(snapshotIds: string[]): Promise<SnapshotFacts> {
    const facts = await Promise.all(snapshotIds.map((id) => this.factsOf(id)));
    const union = (xs: string[][]) => [...new Set(xs.flat())].sort();
    return {
      setIds: union(facts.map((f) => f.setIds)),
      annotation: union(facts.map((f) => f.annotation)),
      datasetIds: union(facts.map((f) => f.datasetIds)),
      assets: facts.reduce((n, f) => n + f.assets, 0),
      subjectIds: [...new Set(facts.flatMap((f) => f.subjectIds))],
      deidentification: mergeCounts(facts.flatMap((f) => f.deidentification)),
      restsOn: facts.flatMap((f) => f.restsOn),
    };
  }

  private async factsOf(snapshotId: string): Promise<SnapshotFacts> {
    const [kept]: {
      annotation_sets: string[];
      annotations: string[];
      dataset_versions: string[];
      assets: number;
      subject_ids: string[];
      deidentification: SnapshotFacts['deidentification'];
      rests_on: SnapshotFacts['restsOn'];
    }[] = await this.dataSource.query('SELECT * FROM lineage_snapshot_facts WHERE snapshot_id = $1', [snapshotId]);
    if (kept)
      return {
        setIds: kept.annotation_sets,
        annotation: kept.annotations,
        datasetIds: kept.dataset_versions,
        assets: kept.assets,
        subjectIds: kept.subject_ids,
        deidentification: kept.deidentification,
        restsOn: kept.rests_on,
      };
    const setIds = await this.targets([snapshotId], 'wasDerivedFrom', FOREVER, 'annotation-set:');
    const [row]: { assets: string; reached: string; subject_ids: string[]; included: string | null }[] = await this.dataSource.query(
      `WITH curated AS (SELECT DISTINCT to_id AS id FROM lineage_edges WHERE from_id = $1 AND type = 'wasDerivedFrom' AND starts_with(to_id, 'curated-asset:')),
            raw AS (SELECT c.id AS curated, e.to_id AS id FROM lineage_edges e JOIN curated c ON e.from_id = c.id WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'asset:')),
            subjects AS (SELECT r.curated, e.to_id AS id FROM lineage_edges e JOIN raw r ON e.from_id = r.id WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'subject:'))
       SELECT (SELECT count(*) FROM curated) AS assets, (SELECT count(DISTINCT curated) FROM subjects) AS reached,
              (SELECT coalesce(array_agg(DISTINCT id), '{}') FROM subjects) AS subject_ids,
              (SELECT attrs->>'includedItems' FROM lineage_nodes WHERE id = $1) AS included`,
      [snapshotId],
    );
    const deidentification = (await deidentificationBySnapshot(this.dataSource, [snapshotId], FOREVER)).map(({ method, assets }) => ({ method, assets }));
    const positions: { log: string; positions: string[] }[] = await this.dataSource.query(
      `WITH curated AS (SELECT DISTINCT to_id AS id FROM lineage_edges WHERE from_id = $1 AND type = 'wasDerivedFrom' AND starts_with(to_id, 'curated-asset:')),
            chain AS (SELECT n.log, n.position FROM lineage_nodes n JOIN curated c ON n.id = c.id
                      UNION SELECT e.log, e.position FROM lineage_edges e JOIN curated c ON e.from_id = c.id)
       SELECT log, array_agg(DISTINCT position) AS positions FROM chain GROUP BY log`,
      [snapshotId],
    );
    const facts: SnapshotFacts = {
      setIds,
      annotation: await this.targets(setIds, 'wasGeneratedBy', FOREVER, 'annotation:'),
      datasetIds: await this.targets(setIds, 'wasDerivedFrom', FOREVER, 'dataset-version:'),
      assets: Number(row.assets),
      subjectIds: row.subject_ids,
      deidentification,
      restsOn: positions.map((p) => ({ log: p.log, positions: p.positions.map(Number).sort((a, b) => a - b) })),
    };
    // Kept only when complete: every item the snapshot names is in the graph with its subject.
    if (row.included !== null && Number(row.included) === facts.assets && Number(row.reached) === facts.assets) {
      await this.dataSource.query(
        `INSERT INTO lineage_snapshot_facts (snapshot_id, annotation_sets, annotations, dataset_versions, assets, subject_ids, deidentification, rests_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (snapshot_id) DO NOTHING`,
        [
          snapshotId,
          facts.setIds,
          facts.annotation,
          facts.datasetIds,
          facts.assets,
          facts.subjectIds,
          JSON.stringify(facts.deidentification),
          JSON.stringify(facts.restsOn),
        ],
      );
    }
    return facts;
  }

  async consentImpact(subjectId: string, asOf: Date): Promise<ConsentImpact | null> {
    const subjectNode = ids.subject(subjectId);
    const [subject] = await this.graph.nodes([subjectNode], asOf);
    if (!subject) return null;
    const consents = await this.sources([subjectNode], 'wasDerivedFrom', asOf, 'consent:');
    const raw = await this.sources([subjectNode], 'wasDerivedFrom', asOf, 'asset:');
    const curated = await this.sources(raw, 'wasDerivedFrom', asOf, 'curated-asset:');
    const datasetVersions = await this.sources(curated, 'wasDerivedFrom', asOf, 'dataset-version:');
    const annotationSets = await this.sources(curated, 'wasDerivedFrom', asOf, 'annotation-set:');
    const snapshots = await this.sources(curated, 'wasDerivedFrom', asOf, 'snapshot:');
    const runs = await this.sources(snapshots, 'used', asOf, 'training:');
    const versions = await this.sources(snapshots, 'wasDerivedFrom', asOf, 'model-version:');
    const all = [...consents, ...raw, ...curated, ...datasetVersions, ...annotationSets, ...snapshots, ...runs, ...versions];
    const byId = new Map((await this.graph.nodes(all, asOf)).map((n) => [n.id, n]));
    const pick = (xs: string[]) => xs.map((x) => byId.get(x)).filter((n): n is GraphNode => n !== undefined);
    return {
      subject,
      consents: pick(consents),
      assets: pick([...raw, ...curated]),
      datasetVersions: pick(datasetVersions),
      annotationSets: pick(annotationSets),
      snapshots: pick(snapshots),
      trainingRuns: pick(runs),
      modelVersions: pick(versions),
    };
  }
}
