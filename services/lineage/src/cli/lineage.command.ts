/**
 * `trellis lineage` and `trellis audit`: the auditor's questions from the command line, asked of
 * a running platform's (or lineage service's) GraphQL API (TRELLIS_URL, TRELLIS_TOKEN): where a
 * model version came from, what a subject's data reached, a node and its neighbourhood, the audit
 * trail and a log's hash chain. `--json` prints the GraphQL answer as it came, for scripts.
 */
import {
  bodyOf,
  CliCommand,
  CliRefusedError,
  CliUsageError,
  commandUsage,
  expectStatus,
  onlyFlags,
  parseCliArgs,
  positionals,
  emitter,
  JSON_SWITCH,
  jsonDocument,
  reportCliError,
  subcommandsUsage,
  TrellisHttpClient,
  wholeNumber,
} from '@trellis/cli';

const LINEAGE_USAGE = {
  provenance: `usage: trellis lineage provenance NAME VERSION [--as-of ISO_DATE_TIME] [--json]
       trellis lineage provenance --id MODEL_VERSION_ID [--as-of ISO_DATE_TIME] [--json]
  Where a model version came from: run and requester, base model, snapshot (included and excluded
  items and why), annotation sets and annotators, dataset versions, asset, subject and consent
  counts, de-identification, evaluations, promotions and approvers, and the log positions it
  rests on; as of a past moment with --as-of.
example:
  trellis lineage provenance chest-captioner 1`,
  impact: `usage: trellis lineage impact SUBJECT_ID [--as-of ISO_DATE_TIME] [--json]
  What a subject's data reached: consents, assets, dataset versions, annotation sets, snapshots,
  runs and model versions, each version with its flags and aliases.
example:
  trellis lineage impact SUBJECT_ID`,
  show: `usage: trellis lineage show NODE_ID [--as-of ISO_DATE_TIME] [--json]
  One node of the lineage graph as JSON (attributes and states), e.g. model-version:<id>; the
  same with or without --json.
example:
  trellis lineage show subject:SUBJECT_ID`,
  walk: `usage: trellis lineage walk NODE_ID [--direction upstream|downstream|both] [--depth N] [--as-of ISO_DATE_TIME] [--json]
  The nodes and edges reached from a node (default upstream, depth 3), one edge per line.
example:
  trellis lineage walk model-version:MODEL_VERSION_ID --depth 2`,
};

const AUDIT_USAGE = {
  trail: `usage: trellis audit trail [--stream ID] [--actor PRINCIPAL_ID] [--type EVENT_TYPE] [--from ISO] [--to ISO] [--first N] [--after CURSOR] [--json]
  Events of every log, newest first, one per line; the last line gives the cursor of the next page.
example:
  trellis audit trail --type AuditorQueried --first 20`,
  verify: `usage: trellis audit verify LOG [--json]
  Recomputes a log's hash chain: ok, or every position where it breaks (exit 1).
example:
  trellis audit verify ingestion`,
};

export interface LineageCliDeps {
  http(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  out(text: string): void;
  err(text: string): void;
}

/** GraphQL error codes that mean the platform said no to this request (exit 3), not that it failed. */
const REFUSALS = ['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED'];

async function graphql<T>(deps: LineageCliDeps, query: string, variables: Record<string, unknown>): Promise<T> {
  const body = bodyOf<{ data?: T; errors?: { message: string; extensions?: { code?: string; reason?: string } }[] }>(
    expectStatus(await deps.http('POST', '/graphql', { query, variables }), [200, 400]),
  );
  const [first] = body.errors ?? [];
  if (first) {
    const code = first.extensions?.code ?? 'ERROR';
    const text = `${code}${first.extensions?.reason && first.extensions.reason !== code ? ` (${first.extensions.reason})` : ''}: ${first.message}`;
    throw REFUSALS.includes(code) ? new CliRefusedError(text) : new Error(text);
  }
  if (!body.data) throw new Error('the platform answered without data');
  return body.data;
}

interface Node {
  id: string;
  type: string;
  label: string;
  attrs: string;
  states: string;
}

const NODE = 'id type label attrs states';
const PROVENANCE = `query ($id: ID!, $asOf: String) { modelProvenance(modelVersionId: $id, asOf: $asOf) {
  modelVersion { ${NODE} } baseModel { ${NODE} } training { ${NODE} } requestedBy snapshot { ${NODE} }
  annotationSets(first: 1000) { totalCount edges { node { ${NODE} } } } annotators reviewers datasetVersions(first: 1000) { totalCount edges { node { id label } } }
  assets subjects consents deidentification { method assets } evaluations(first: 1000) { totalCount } promotions(first: 1000) { totalCount }
  approvers restsOn { log events } } }`;
const IMPACT_LISTS = ['consents', 'assets', 'datasetVersions', 'annotationSets', 'snapshots', 'trainingRuns', 'modelVersions'] as const;
// Counts of every list, and the model versions themselves (the one list an auditor reads line by line).
const IMPACT = `query ($id: ID!, $asOf: String) { consentImpact(subjectId: $id, asOf: $asOf) { subject { ${NODE} }
  ${IMPACT_LISTS.filter((l) => l !== 'modelVersions')
    .map((l) => `${l} { totalCount }`)
    .join(' ')} modelVersions(first: 1000) { totalCount edges { node { ${NODE} } } } } }`;

const parsed = (json: string) => JSON.parse(json) as Record<string, unknown>;
const edgesOf = (c: { edges: { node: Node }[] }) => c.edges.map((e) => e.node);

/** A version's flags and aliases from its states, e.g. `champion; FLAGGED consent-withdrawn (1 subject(s), 2 item(s))`. */
function versionNotes(v: Node): string {
  const states = parsed(v.states);
  const notes = Object.keys(states)
    .filter((k) => k.startsWith('alias:'))
    .map((k) => k.slice('alias:'.length));
  for (const [k, value] of Object.entries(states)) {
    if (!k.startsWith('flag:')) continue;
    const f = value as { subjects: number; items: number };
    notes.push(`FLAGGED ${k.slice('flag:'.length)} (${f.subjects} subject(s), ${f.items} item(s))`);
  }
  return notes.join('; ');
}

function asOfFlag(flags: Record<string, string>): string | null {
  return flags['as-of'] ?? null;
}

export async function runLineageCommand(argv: string[], deps: LineageCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    switch (sub) {
      case 'provenance': {
        onlyFlags(flags, ['id', 'as-of']);
        let id = flags.id;
        if (id === undefined) {
          const [name, version] = positionals(positional, ['NAME', 'VERSION']);
          const v = bodyOf<{ modelVersionId: string }>(
            expectStatus(await deps.http('GET', `/registry/models/${encodeURIComponent(name)}/versions/${wholeNumber(version, 'VERSION')}`), [200]),
          );
          id = v.modelVersionId;
        } else positionals(positional, []);
        const data = await graphql<{ modelProvenance: Provenance }>(deps, PROVENANCE, { id, asOf: asOfFlag(flags) });
        emit(data, () => printProvenance(data.modelProvenance, asOfFlag(flags), deps));
        return 0;
      }
      case 'impact': {
        const [subjectId] = positionals(positional, ['SUBJECT_ID']);
        onlyFlags(flags, ['as-of']);
        const data = await graphql<{ consentImpact: Impact }>(deps, IMPACT, { id: subjectId, asOf: asOfFlag(flags) });
        emit(data, () => printImpact(data.consentImpact, asOfFlag(flags), deps));
        return 0;
      }
      case 'show': {
        const [id] = positionals(positional, ['NODE_ID']);
        onlyFlags(flags, ['as-of']);
        const { node } = await graphql<{ node: (Node & Record<string, unknown>) | null }>(
          deps,
          `query ($id: ID!, $asOf: String) { node(id: $id, asOf: $asOf) { ${NODE} class validFrom log position } }`,
          { id, asOf: asOfFlag(flags) },
        );
        if (!node) throw new CliRefusedError(`NOT_FOUND: no node ${JSON.stringify(id)} in the lineage graph at that moment`);
        deps.out(jsonDocument({ ...node, attrs: parsed(node.attrs), states: parsed(node.states) }));
        return 0;
      }
      case 'walk': {
        const [id] = positionals(positional, ['NODE_ID']);
        onlyFlags(flags, ['direction', 'depth', 'as-of']);
        const direction = (flags.direction ?? 'upstream').toUpperCase();
        if (!['UPSTREAM', 'DOWNSTREAM', 'BOTH'].includes(direction)) throw new CliUsageError(`--direction must be upstream, downstream or both`);
        const depth = flags.depth === undefined ? 3 : wholeNumber(flags.depth, '--depth');
        const data = await graphql<{ lineage: { nodes: Node[]; edges: { from: string; type: string; to: string }[]; truncated: boolean } }>(
          deps,
          `
            query ($id: ID!, $direction: LineageDirection, $depth: Int, $asOf: String) {
              lineage(id: $id, direction: $direction, depth: $depth, asOf: $asOf) {
                nodes {
                  id
                  type
                  label
                }
                edges {
                  from
                  type
                  to
                }
                truncated
              }
            }
          `,
          { id, direction, depth, asOf: asOfFlag(flags) },
        );
        emit(data, () => {
          const g = data.lineage;
          const byType = new Map<string, number>();
          for (const n of g.nodes) byType.set(n.type, (byType.get(n.type) ?? 0) + 1);
          deps.out(`${g.nodes.length} node(s): ${[...byType].map(([t, n]) => `${t} ${n}`).join(', ')}${g.truncated ? ' (truncated at the node limit)' : ''}`);
          for (const e of g.edges) deps.out(`${e.from} ${e.type} ${e.to}`);
        });
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(err, `trellis lineage${sub ? ` ${sub}` : ''}`, commandUsage(lineageCommand, sub), deps.err);
  }
}

interface Provenance {
  modelVersion: Node;
  baseModel: Node | null;
  training: Node | null;
  requestedBy: string[];
  snapshot: Node | null;
  annotationSets: { totalCount: number; edges: { node: Node }[] };
  annotators: string[];
  reviewers: string[];
  datasetVersions: { totalCount: number; edges: { node: { id: string; label: string } }[] };
  assets: number;
  subjects: number;
  consents: number;
  deidentification: { method: string; assets: number }[];
  evaluations: { totalCount: number };
  promotions: { totalCount: number };
  approvers: string[];
  restsOn: { log: string; events: number }[];
}

function printProvenance(p: Provenance, asOf: string | null, deps: LineageCliDeps): void {
  const version = parsed(p.modelVersion.attrs) as { version?: number; method?: string };
  deps.out(`${p.modelVersion.id} (version ${version.version ?? '?'}, ${version.method ?? '?'}), as of ${asOf ?? 'now'}`);
  const notes = versionNotes(p.modelVersion);
  if (notes) deps.out(`  now: ${notes}`);
  if (p.training) {
    const run = parsed(p.training.attrs) as { method?: string };
    const status = (parsed(p.training.states) as { status?: string }).status ?? '?';
    deps.out(`  training: ${p.training.id} (${run.method ?? '?'}, ${status}), requested by ${p.requestedBy.join(', ') || '?'}`);
  }
  if (p.baseModel) deps.out(`  base model: ${p.baseModel.id} (${p.baseModel.label})`);
  if (p.snapshot) {
    const s = parsed(p.snapshot.attrs) as {
      includedItems: number;
      includedSubjects: number;
      excludedItems: number;
      excluded: { reason: string; count: number }[];
      consentAsOf: string;
      merkleRoot: string;
    };
    const why = s.excluded.map((e) => `${e.reason} ${e.count}`).join(', ');
    deps.out(`  snapshot: ${s.includedItems} item(s) of ${s.includedSubjects} subject(s) included, ${s.excludedItems} excluded${why ? ` (${why})` : ''}`);
    deps.out(`    consent as of ${s.consentAsOf}, Merkle root ${s.merkleRoot}`);
  }
  const sets = edgesOf(p.annotationSets).map((n) => {
    const a = parsed(n.attrs) as { items?: number; meanItemAgreement?: number | null };
    return `${n.id} (${a.items ?? '?'} items, mean agreement ${a.meanItemAgreement ?? '-'})`;
  });
  deps.out(`  annotation sets: ${sets.join('; ') || 'none'}`);
  deps.out(`    annotators: ${p.annotators.join(', ') || 'none'}; reviewers: ${p.reviewers.join(', ') || 'none'}`);
  deps.out(`  dataset versions: ${p.datasetVersions.edges.map((e) => e.node.label).join(', ') || 'none'}`);
  deps.out(`  assets ${p.assets}, subjects ${p.subjects}, consents ${p.consents}`);
  deps.out(`  de-identification: ${p.deidentification.map((d) => `${d.method} x ${d.assets}`).join(', ') || 'none'}`);
  deps.out(`  evaluations ${p.evaluations.totalCount}, promotions ${p.promotions.totalCount}, approvers: ${p.approvers.join(', ') || 'none'}`);
  deps.out(`  rests on: ${p.restsOn.map((r) => `${r.log} ${r.events} event(s)`).join(', ')} (check with trellis audit verify LOG)`);
}

type Impact = { subject: Node; modelVersions: { totalCount: number; edges: { node: Node }[] } } & Record<(typeof IMPACT_LISTS)[number], { totalCount: number }>;

function printImpact(c: Impact, asOf: string | null, deps: LineageCliDeps): void {
  deps.out(`${c.subject.id}, as of ${asOf ?? 'now'}`);
  deps.out(
    `  ${IMPACT_LISTS.filter((l) => l !== 'modelVersions')
      .map((l) => `${l.replace(/[A-Z]/g, (x) => ` ${x.toLowerCase()}`)} ${c[l].totalCount}`)
      .join(', ')}`,
  );
  deps.out(`  model versions: ${c.modelVersions.totalCount}`);
  for (const v of edgesOf(c.modelVersions)) {
    const notes = versionNotes(v);
    deps.out(`    ${v.id} (${v.label})${notes ? `  ${notes}` : ''}`);
  }
}

export async function runAuditCommand(argv: string[], deps: LineageCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    switch (sub) {
      case 'trail': {
        positionals(positional, []);
        onlyFlags(flags, ['stream', 'actor', 'type', 'from', 'to', 'first', 'after']);
        const data = await graphql<{
          auditTrail: {
            edges: { node: { occurredAt: string; log: string; position: number; type: string; streamId: string; actorId: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          };
        }>(
          deps,
          `
            query ($stream: String, $actor: String, $type: String, $from: String, $to: String, $first: Int, $after: String) {
              auditTrail(stream: $stream, actor: $actor, type: $type, from: $from, to: $to, first: $first, after: $after) {
                edges {
                  node {
                    occurredAt
                    log
                    position
                    type
                    streamId
                    actorId
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }
          `,
          {
            stream: flags.stream ?? null,
            actor: flags.actor ?? null,
            type: flags.type ?? null,
            from: flags.from ?? null,
            to: flags.to ?? null,
            first: flags.first === undefined ? 100 : wholeNumber(flags.first, '--first'),
            after: flags.after ?? null,
          },
        );
        emit(data, () => {
          for (const { node: e } of data.auditTrail.edges) deps.out(`${e.occurredAt}  ${e.log} ${e.position}  ${e.type}  ${e.streamId}  by ${e.actorId}`);
          const page = data.auditTrail.pageInfo;
          if (page.hasNextPage) deps.out(`more: --after ${page.endCursor}`);
        });
        return 0;
      }
      case 'verify': {
        const [log] = positionals(positional, ['LOG']);
        onlyFlags(flags, []);
        const { verifyAuditChain: v } = await graphql<{
          verifyAuditChain: { ok: boolean; checked: number; lastPosition: number | null; broken: { position: number; reason: string }[]; brokenCount: number };
        }>(deps, 'query ($log: String!) { verifyAuditChain(log: $log) { ok checked lastPosition broken { position reason } brokenCount } }', { log });
        emit(v, () => {
          if (v.ok) deps.out(`ok: ${log} is intact, ${v.checked} event(s) up to position ${v.lastPosition ?? 0}`);
          else {
            deps.out(`BROKEN: ${log} breaks at ${v.brokenCount} position(s)`);
            for (const b of v.broken) deps.out(`  ${b.position}: ${b.reason}`);
          }
        });
        return v.ok ? 0 : 1;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(err, `trellis audit${sub ? ` ${sub}` : ''}`, commandUsage(auditCommand, sub), deps.err);
  }
}

export function defaultLineageDeps(env: NodeJS.ProcessEnv = process.env): LineageCliDeps {
  const client = new TrellisHttpClient(env.TRELLIS_URL || 'http://127.0.0.1:3000', env.TRELLIS_TOKEN);
  return {
    http: (method, path, body) => client.send(method, path, body),
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
}

export const lineageCommand: CliCommand = {
  summary: "the lineage graph: a model version's provenance, a subject's consent impact, a node, a walk",
  usage: subcommandsUsage('lineage', LINEAGE_USAGE),
  subcommands: LINEAGE_USAGE,
  run: (argv) => runLineageCommand(argv, defaultLineageDeps()),
};

export const auditCommand: CliCommand = {
  summary: "the audit trail of every log, and a log's hash-chain verification",
  usage: subcommandsUsage('audit', AUDIT_USAGE),
  subcommands: AUDIT_USAGE,
  run: (argv) => runAuditCommand(argv, defaultLineageDeps()),
};
