import { Args, Context, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '@trellis/auth';
import { canonicalJson, isUuid } from '@trellis/contracts';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { asOfDate, requestNow } from './as-of';
import { ConsentImpact, LineageDirection, LineageEdge, LineageNode, LineageSubgraph, ModelProvenance } from './lineage.models';
import { GraphEdge, GraphNode, LineageQueries } from './lineage.queries';
import { nodeKey, nodesOfRequest } from './node.loader';
import { ProvenanceQueries } from './provenance.queries';

const MAX_DEPTH = 10;
/** A walk returns at most this many nodes (and says it was truncated). */
const MAX_NODES = 5000;

const toNode = (n: GraphNode): LineageNode => ({ ...n, attrs: canonicalJson(n.attrs), states: canonicalJson(n.states) });
const toEdge = (e: GraphEdge): LineageEdge => ({ ...e, attrs: canonicalJson(e.attrs) });

/** The lineage graph, read-only, as of any moment. */
@Resolver()
export class LineageResolver {
  constructor(
    private readonly queries: LineageQueries,
    private readonly provenance: ProvenanceQueries,
  ) {}

  @Query(() => LineageNode, { nullable: true, description: 'One node of the lineage graph as of `asOf` (default now); null when it did not exist then.' })
  @Roles('auditor', 'admin', 'engineer', 'approver', 'steward')
  async node(
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => String, nullable: true }) asOf: string | null,
    @Context() context: object,
  ): Promise<LineageNode | null> {
    const n = await nodesOfRequest(context, this.queries).load(nodeKey(id, asOfDate(asOf, 'asOf', requestNow(context))));
    return n ? toNode(n) : null;
  }

  @Query(() => LineageSubgraph, {
    description: `The nodes and edges reached from a node, upstream, downstream or both, up to \`depth\` hops (at most ${MAX_DEPTH}), as of \`asOf\`; at most ${MAX_NODES} nodes.`,
  })
  @Roles('auditor', 'admin', 'engineer', 'approver', 'steward')
  async lineage(
    @Args('id', { type: () => ID }) id: string,
    @Args('direction', { type: () => LineageDirection, nullable: true, defaultValue: LineageDirection.UPSTREAM }) direction: LineageDirection | null,
    @Args('depth', { type: () => Int, nullable: true, defaultValue: 3 }) depthArg: number | null,
    @Args('asOf', { type: () => String, nullable: true }) asOf: string | null,
    @Context() context: object,
  ): Promise<LineageSubgraph> {
    const depth = depthArg ?? 3;
    if (depth < 1 || depth > MAX_DEPTH) throw new LineageException(LineageErrorCode.InvalidQuery, `depth must be between 1 and ${MAX_DEPTH}`, ['depth']);
    const at = asOfDate(asOf, 'asOf', requestNow(context));
    const start = await nodesOfRequest(context, this.queries).load(nodeKey(id, at));
    if (!start) throw new LineageException(LineageErrorCode.NotFound, 'no such node in the lineage graph at that moment', ['id']);
    const g = await this.queries.walk(id, direction ?? LineageDirection.UPSTREAM, depth, at, MAX_NODES);
    return { nodes: g.nodes.map(toNode), edges: g.edges.map(toEdge), truncated: g.truncated };
  }

  @Query(() => ModelProvenance, {
    description:
      'Where a model version came from, as of `asOf`: base model, run, snapshot and consent coverage, sets, datasets, asset, subject and consent counts, de-identification, annotators, evaluations, promotions, approvers, and the log positions it rests on.',
  })
  @Roles('auditor', 'admin', 'engineer', 'approver')
  async modelProvenance(
    @Args('modelVersionId', { type: () => ID }) modelVersionId: string,
    @Args('asOf', { type: () => String, nullable: true }) asOf: string | null,
  ): Promise<ModelProvenance> {
    const p = await this.provenance.modelProvenance(requireUuid(modelVersionId, 'modelVersionId'), asOfDate(asOf));
    if (!p) throw new LineageException(LineageErrorCode.NotFound, 'no such model version in the lineage graph at that moment', ['modelVersionId']);
    const many = (xs: GraphNode[]) => xs.map(toNode);
    return {
      ...p,
      modelVersion: toNode(p.modelVersion),
      baseModel: p.baseModel && toNode(p.baseModel),
      training: p.training && toNode(p.training),
      snapshot: p.snapshot && toNode(p.snapshot),
      annotationSets: many(p.annotationSets),
      datasetVersions: many(p.datasetVersions),
      evaluations: many(p.evaluations),
      promotions: many(p.promotions),
    };
  }

  @Query(() => ConsentImpact, {
    description:
      "Every asset, dataset version, annotation set, snapshot, run and model version a subject's data reached, as of `asOf`; flags and aliases are in each version's states.",
  })
  @Roles('auditor', 'admin', 'steward')
  async consentImpact(
    @Args('subjectId', { type: () => ID }) subjectId: string,
    @Args('asOf', { type: () => String, nullable: true }) asOf: string | null,
  ): Promise<ConsentImpact> {
    const c = await this.provenance.consentImpact(requireUuid(subjectId, 'subjectId'), asOfDate(asOf));
    if (!c) throw new LineageException(LineageErrorCode.NotFound, 'no such subject in the lineage graph at that moment', ['subjectId']);
    const many = (xs: GraphNode[]) => xs.map(toNode);
    return {
      subject: toNode(c.subject),
      consents: many(c.consents),
      assets: many(c.assets),
      datasetVersions: many(c.datasetVersions),
      annotationSets: many(c.annotationSets),
      snapshots: many(c.snapshots),
      trainingRuns: many(c.trainingRuns),
      modelVersions: many(c.modelVersions),
    };
  }
}

function requireUuid(value: string, field: string): string {
  if (!isUuid(value)) throw new LineageException(LineageErrorCode.InvalidQuery, `${field} must be a UUID`, [field]);
  return value.toLowerCase();
}
