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
    const setIds = await this.targets(snapshotIds, 'wasDerivedFrom', asOf, 'annotation-set:');
    const annotation = await this.targets(setIds, 'wasGeneratedBy', asOf, 'annotation:');
    const datasetIds = await this.targets(setIds, 'wasDerivedFrom', asOf, 'dataset-version:');
    const evaluationIds = await this.sources([mvId], 'wasDerivedFrom', asOf, 'evaluation:');
    const promotionIds = await this.sources([mvId], 'used', asOf, 'promotion:');
    // Counted in SQL: a snapshot may hold hundreds of thousands of items.
    const [counts]: { assets: string; subjects: string; consents: string }[] = await this.dataSource.query(
      `WITH curated AS (SELECT to_id AS id FROM lineage_edges WHERE from_id = ANY($1::text[]) AND type = 'wasDerivedFrom' AND starts_with(to_id, 'curated-asset:') AND valid_from <= $2),
            raw AS (SELECT e.to_id AS id FROM lineage_edges e JOIN curated c ON e.from_id = c.id WHERE e.type = 'wasDerivedFrom' AND e.valid_from <= $2),
            subjects AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN raw r ON e.from_id = r.id WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'subject:') AND e.valid_from <= $2)
       SELECT (SELECT count(DISTINCT id) FROM curated) AS assets, (SELECT count(*) FROM subjects) AS subjects,
              (SELECT count(DISTINCT e.from_id) FROM lineage_edges e JOIN subjects s ON e.to_id = s.id WHERE starts_with(e.from_id, 'consent:') AND e.valid_from <= $2) AS consents`,
      [snapshotIds, asOf],
    );
    const deid = (await deidentificationBySnapshot(this.dataSource, snapshotIds, asOf)).map(({ method, assets }) => ({ method, assets }));
    const involved = [mvId, ...training, ...snapshotIds, ...baseIds, ...setIds, ...annotation, ...datasetIds, ...evaluationIds, ...promotionIds];
    const byId = new Map((await this.graph.nodes(involved, asOf)).map((n) => [n.id, n]));
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
      assets: Number(counts.assets),
      subjects: Number(counts.subjects),
      consents: Number(counts.consents),
      deidentification: deid,
      evaluations: pick(evaluationIds),
      promotions: pick(promotionIds),
      approvers: await this.associated(promotionIds, 'approver', asOf),
      restsOn: await this.restsOn(involved, snapshotIds, asOf),
    };
  }

  /**
   * Every event the answer rests on: those that recorded the nodes named, the edges among them
   * and from the snapshot down to the subjects, and the states read; so an auditor can check each
   * against the hash chain (verifyAuditChain).
   */
  private async restsOn(involved: string[], snapshotIds: string[], asOf: Date): Promise<RestsOn[]> {
    const rows: { log: string; events: string; positions: string[] }[] = await this.dataSource.query(
      `WITH curated AS (SELECT to_id AS id FROM lineage_edges WHERE from_id = ANY($2::text[]) AND type = 'wasDerivedFrom' AND starts_with(to_id, 'curated-asset:') AND valid_from <= $3),
            chain AS (
              SELECT log, position FROM lineage_nodes WHERE id = ANY($1::text[]) AND valid_from <= $3
              UNION SELECT log, position FROM lineage_edges WHERE from_id = ANY($1::text[]) AND valid_from <= $3
              UNION SELECT log, position FROM lineage_node_states WHERE node_id = ANY($1::text[]) AND valid_from <= $3
              UNION SELECT e.log, e.position FROM lineage_edges e JOIN curated c ON e.from_id = c.id WHERE e.valid_from <= $3
              UNION SELECT n.log, n.position FROM lineage_nodes n JOIN curated c ON n.id = c.id WHERE n.valid_from <= $3)
       SELECT log, count(*) AS events, (array_agg(position ORDER BY position))[1:$4] AS positions FROM chain GROUP BY log ORDER BY log`,
      [involved, snapshotIds, asOf, MAX_POSITIONS],
    );
    return rows.map((r) => ({ log: r.log, events: Number(r.events), positions: r.positions.map(Number) }));
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
