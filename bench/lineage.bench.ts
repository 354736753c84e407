/**
 * npm run bench:lineage
 *
 * The lineage graph's reads over GraphQL over HTTP, each beside hand-written SQL over the same
 * tables in the same run:
 *
 * 1. A generated graph of 100,000 assets of 1,000 subjects (consents, curated assets,
 *    de-identification), 10 datasets of 5 versions each (50 dataset versions of 2,000 to 10,000
 *    assets), one annotation set per dataset version, 20 training runs (snapshots of 1,980 to
 *    38,800 items, checkpoints) and their 20 model versions with evaluations, promotions, aliases
 *    and consent flags. Made from synthetic events by the lineage's own functions
 *    (ingestionChanges, annotationChanges, trainerChanges, registryChanges), so it has the real
 *    shape; the 102,100 per-subject and per-asset events are written in big batches with the
 *    writer's rules, the 412 others through writeGraphChanges. No trellis_events rows: the reads
 *    use only the graph's log and position columns. VACUUM ANALYZE afterwards, as autovacuum
 *    would have done on a graph that has been up a while.
 * 2. The lineage service's own main.ts in a child process listening on a port (in-process
 *    messaging), real API tokens of an auditor (every query of theirs is appended to the `audit`
 *    log before it runs: part of the real cost) and of an admin (not audited).
 * 3. modelProvenance (the 20 versions in turn), consentImpact (20 subjects in turn) and a depth-5
 *    downstream lineage walk from those subjects, for both callers; and, for the auditor, a depth-5
 *    upstream walk from the versions, which stops at the 5,000 node limit. Each is timed from the
 *    request to the parsed body, after a warm-up that also compares the GraphQL answer with the
 *    SQL one for every input, interleaved with the SQL (one statement each, answering the same
 *    facts as JSON, timed to the parsed row).
 *
 * PostgreSQL: DATABASE_URL, or a fresh embedded cluster under .trellis/bench-data; a database that
 * already holds this bench's graph is measured as it is (no generation). BENCH_ITERATIONS (60) and
 * BENCH_WARMUP (20) per operation and caller. Prints a table, then one JSON line.
 */
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ApiTokenUseCases, AuthModule, authContracts } from '@trellis/auth';
import { createDataSource, DatabaseModule, withTransaction } from '@trellis/common';
import {
  Actor,
  AnnotationSetArtifactItem,
  AnnotationSetPublished,
  AnnotationSetRef,
  AssetIngestedV1Data,
  ConsentRecorded,
  ConsentWithdrawn,
  DatasetManifest,
  DatasetVersionPublished,
  EventContractRegistry,
  EventEnvelope,
  GENESIS_HASH,
  RegistryEvent,
  StoredFile,
  TrainerEvent,
} from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { MIGRATIONS } from '../migrations';
import {
  annotationChanges,
  GraphChange,
  ids,
  ingestionChanges,
  registryChanges,
  SnapshotContents,
  trainerChanges,
} from '../services/lineage/src/graph/graph-changes';
import { writeGraphChanges } from '../services/lineage/src/graph/graph.writer';
import { benchPostgres, percentile, printTable } from './bench-services';

// ================================================================================================
// GraphQL query texts: the only place this bench names the schema's fields. The long lists of
// modelProvenance and consentImpact are plain lists in the committed schema and are becoming Relay
// connections (`{ edges { node } pageInfo }`, first <= 1000): the bench asks the running service
// (introspection) which it serves and sends the matching text, asking for the first page of each
// connection; LIST() below is the one place that differs. Pages are sized to stay under the
// service's query cost limit (50,000) and to hold the whole list at this size (checked).
// ================================================================================================
const NODE_FIELDS = 'fragment N on LineageNode { id type class label attrs states validFrom log position }';
type ListShape = 'list' | 'connection';
const LIST = (shape: ListShape, field: string, first: number) =>
  shape === 'list' ? `${field} { ...N }` : `${field}(first: ${first}) { edges { node { ...N } } pageInfo { hasNextPage } }`;
const GRAPHQL = {
  modelProvenance: (shape: ListShape) => `query Provenance($id: ID!) {
    modelProvenance(modelVersionId: $id) {
      modelVersion { ...N } baseModel { ...N } training { ...N } requestedBy snapshot { ...N }
      ${LIST(shape, 'annotationSets', 100)} annotators reviewers ${LIST(shape, 'datasetVersions', 100)}
      assets subjects consents deidentification { method assets }
      ${LIST(shape, 'evaluations', 100)} ${LIST(shape, 'promotions', 100)} approvers restsOn { log events positions }
    }
  } ${NODE_FIELDS}`,
  consentImpact: (shape: ListShape) => `query Impact($id: ID!) {
    consentImpact(subjectId: $id) {
      subject { ...N } ${LIST(shape, 'consents', 100)} ${LIST(shape, 'assets', 1000)} ${LIST(shape, 'datasetVersions', 100)}
      ${LIST(shape, 'annotationSets', 100)} ${LIST(shape, 'snapshots', 100)} ${LIST(shape, 'trainingRuns', 100)} ${LIST(shape, 'modelVersions', 100)}
    }
  } ${NODE_FIELDS}`,
  lineage: () => `query Walk($id: ID!, $direction: LineageDirection, $depth: Int) {
    lineage(id: $id, direction: $direction, depth: $depth) {
      nodes { ...N } edges { from type to attrs validFrom log position } truncated
    }
  } ${NODE_FIELDS}`,
  /** Whether consentImpact.assets is a connection (LineageNodeConnection) or a list. */
  shape: '{ __type(name: "ConsentImpact") { fields { name type { name ofType { name } } } } }',
};

interface Node {
  id: string;
}
/** The ids of a list or of the first page of a connection (which must then hold the whole list). */
function nodesOf(value: unknown): Node[] {
  if (Array.isArray(value)) return value as Node[];
  const c = value as { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean } };
  if (c.pageInfo.hasNextPage) throw new Error('a first page did not hold the whole list: ask for a larger page in GRAPHQL');
  return c.edges.map((e) => e.node);
}
/** The facts of each answer that the bench compares with the SQL's (ids sorted, counts). */
const GRAPHQL_READ = {
  modelProvenance: (d: Record<string, unknown>) => {
    const p = d.modelProvenance as Record<string, unknown>;
    const list = (k: string) =>
      nodesOf(p[k])
        .map((n) => n.id)
        .sort();
    return {
      nodes: [p.modelVersion, p.baseModel, p.training, p.snapshot].map((n) => (n as Node | null)?.id ?? null),
      annotationSets: list('annotationSets'),
      datasetVersions: list('datasetVersions'),
      evaluations: list('evaluations'),
      promotions: list('promotions'),
      people: ['requestedBy', 'annotators', 'reviewers', 'approvers'].map((k) => (p[k] as string[]).slice().sort()),
      counts: [p.assets, p.subjects, p.consents],
      deidentification: p.deidentification,
      restsOn: (p.restsOn as { log: string; events: number; positions: number[] }[]).map((r) => [r.log, r.events, r.positions.length]),
    };
  },
  consentImpact: (d: Record<string, unknown>) => {
    const c = d.consentImpact as Record<string, unknown>;
    return Object.fromEntries(
      ['consents', 'assets', 'datasetVersions', 'annotationSets', 'snapshots', 'trainingRuns', 'modelVersions'].map((k) => [
        k,
        nodesOf(c[k])
          .map((n) => n.id)
          .sort(),
      ]),
    );
  },
  // A walk cut at the node limit keeps whichever 5,000 nodes the walk gave first: only its size is compared.
  lineage: (d: Record<string, unknown>) => {
    const g = d.lineage as { nodes: Node[]; edges: unknown[]; truncated: boolean };
    return { nodes: g.nodes.length, edges: g.truncated ? null : g.edges.length, truncated: g.truncated };
  },
};

const ITERATIONS = Number(process.env.BENCH_ITERATIONS || 60);
const WARMUP = Number(process.env.BENCH_WARMUP || 20);
const SUBJECTS = 1000;
const ASSETS = 100_000;
const DATASETS = 10;
const VERSIONS = 5;
/** Assets a dataset version adds to the one before it (version v has v times as many). */
const VERSION_STEP = 2000;
const RUNS = 20;
/** Subjects who withdraw consent to model training after the first ten runs. */
const WITHDRAWN = 20;
const MAX_NODES = 5000;
const WALK_DEPTH = 5;
const MAX_POSITIONS = 10_000;

// ------------------------------------------------------------------------------------------------
// The synthetic history
// ------------------------------------------------------------------------------------------------

/** Deterministic UUIDs: a kind in the first group, a counter in the last. */
const KIND = { subject: 1, consent: 2, asset: 3, dataset: 4, project: 5, set: 6, base: 7, run: 8, model: 9, version: 10, evaluation: 11, promotion: 12 };
const uuid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const file = (name: string, seed: string, size: number): StoredFile => ({ name, key: `artifacts/${sha(seed)}`, sha256: sha(seed), size });

const steward: Actor = { id: 'prn-steward-bench', role: 'steward' };
const engineers: Actor[] = [1, 2, 3].map((i) => ({ id: `prn-engineer-${i}`, role: 'engineer' }));
const approvers = ['prn-approver-1', 'prn-approver-2'];
const annotators = Array.from({ length: 20 }, (_, i) => `prn-annotator-${String(i + 1).padStart(2, '0')}`);
const reviewers = ['prn-reviewer-1', 'prn-reviewer-2', 'prn-reviewer-3', 'prn-reviewer-4'];
const trainerService: Actor = { id: 'trainer-service', role: 'service' };
const registryService: Actor = { id: 'registry-service', role: 'service' };
const annotationService: Actor = { id: 'annotation-service', role: 'service' };

const subjectOf = (asset: number) => asset % SUBJECTS;
/** Dataset d holds assets d*10,000 ... d*10,000+9,999 (every subject has ten of them); version v the first v*2,000. */
const members = (d: number, v: number) => Array.from({ length: v * VERSION_STEP }, (_, j) => d * (ASSETS / DATASETS) + j);
/** One item in a hundred is left out of a set (the annotation service's leave-out rule). */
const setItems = (d: number, v: number) => members(d, v).filter((a) => a % 100 !== 99);
/** Run r: 1 to 4 annotation sets (datasets r, r+1, ...) of version 1 + r/4: snapshots of about 2,000 to 40,000 items. */
const runSets = (r: number) => Array.from({ length: 1 + (r % 4) }, (_, j) => ({ d: (r + j) % DATASETS, v: 1 + Math.floor(r / 4) }));
const setId = (d: number, v: number) => uuid(KIND.set, d * 10 + v);

/** Envelopes in time order, one second apart, with a position per log as the event store gives. */
class Timeline {
  private clock: number;
  private readonly positions = new Map<string, number>();
  private count = 0;

  constructor(start: number) {
    this.clock = start;
  }

  envelope(log: string, type: string, data: unknown, actor: Actor): EventEnvelope {
    const position = (this.positions.get(log) ?? 0) + 1;
    this.positions.set(log, position);
    this.clock += 1000;
    const n = ++this.count;
    return {
      eventId: uuid(0xe, n),
      type,
      schemaVersion: 1,
      log,
      streamId: `bench-${n}`,
      streamVersion: 1,
      position,
      occurredAt: new Date(this.clock).toISOString(),
      actor,
      correlationId: uuid(0xc, n),
      causationId: null,
      data,
      prevHash: GENESIS_HASH,
      hash: GENESIS_HASH,
    };
  }
}

/**
 * The graph rows of many events in big statements, with what writeGraphChanges keeps: a node or
 * an edge keeps its earliest definition (events come in time order, so the first; later ones are
 * left by ON CONFLICT DO NOTHING) and every row its own event's time, log and position.
 */
class BulkGraphWriter {
  private nodes = new Map<string, unknown[]>();
  private edges = new Map<string, unknown[]>();
  private states: unknown[][] = [];
  rows = 0;

  constructor(private readonly ds: DataSource) {}

  async add(envelope: EventEnvelope, changes: GraphChange[]): Promise<void> {
    const at = envelope.occurredAt;
    for (const c of changes) {
      if (c.kind === 'node') {
        if (!this.nodes.has(c.id)) this.nodes.set(c.id, [c.id, c.type, c.class, c.label, JSON.stringify(c.attrs), at, envelope.log, envelope.position]);
      } else if (c.kind === 'edge') {
        const key = `${c.from}\u0000${c.type}\u0000${c.to}`;
        if (!this.edges.has(key)) this.edges.set(key, [c.from, c.type, c.to, JSON.stringify(c.attrs ?? {}), at, envelope.log, envelope.position]);
      } else {
        this.states.push([c.node, c.key, JSON.stringify(c.value), at, envelope.log, envelope.position]);
      }
    }
    if (this.nodes.size + this.edges.size + this.states.length >= 60_000) await this.flush();
  }

  async flush(): Promise<void> {
    const insert = async (sql: string, rows: unknown[][], types: string[]) => {
      for (let i = 0; i < rows.length; i += 10_000) {
        const batch = rows.slice(i, i + 10_000);
        await this.ds.query(
          sql,
          types.map((_, c) => batch.map((r) => r[c])),
        );
        this.rows += batch.length;
      }
    };
    await insert(
      `INSERT INTO lineage_nodes (id, type, class, label, attrs, valid_from, log, position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::bigint[]) ON CONFLICT (id) DO NOTHING`,
      [...this.nodes.values()],
      ['id', 'type', 'class', 'label', 'attrs', 'valid_from', 'log', 'position'],
    );
    await insert(
      `INSERT INTO lineage_edges (from_id, type, to_id, attrs, valid_from, log, position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::text[], $7::bigint[]) ON CONFLICT DO NOTHING`,
      [...this.edges.values()],
      ['from_id', 'type', 'to_id', 'attrs', 'valid_from', 'log', 'position'],
    );
    await insert(
      `INSERT INTO lineage_node_states (node_id, key, value, valid_from, log, position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[], $5::text[], $6::bigint[]) ON CONFLICT DO NOTHING`,
      this.states,
      ['node_id', 'key', 'value', 'valid_from', 'log', 'position'],
    );
    this.nodes = new Map();
    this.edges = new Map();
    this.states = [];
  }
}

interface Generated {
  modelVersions: string[];
  /** Items in each version's snapshot, in the order of modelVersions. */
  snapshotItems: number[];
  subjects: string[];
}

type TrainerData<T extends TrainerEvent['type']> = Extract<TrainerEvent, { type: T }>['data'];

/** What the steps of the history share: the clock and logs, the writer, and what earlier steps made. */
interface History {
  timeline: Timeline;
  /** The few hundred events that are not per subject or per asset go through the lineage's own writer, one transaction each. */
  write(e: EventEnvelope, changes: GraphChange[]): Promise<void>;
  curatedSha: string[];
  baseModels: { baseModelId: string; manifestSha256: string }[];
  /** Model index -> the version holding its champion alias. */
  champion: Map<number, string>;
}

const subjectId = (s: number) => uuid(KIND.subject, s);
const withdrew = (asset: number) => subjectOf(asset) < WITHDRAWN;
const setRef = (d: number, v: number): AnnotationSetRef => ({
  setId: setId(d, v),
  projectId: uuid(KIND.project, d),
  version: v,
  contentSha256: sha(`set ${d} ${v}`),
});
/** The items of run r's snapshot: its sets' items, less those of the subjects who withdrew once they had (from run 10 on). */
const snapshotOf = (r: number) => runSets(r).flatMap(({ d, v }) => setItems(d, v).filter((a) => r < 10 || !withdrew(a)));

async function generate(ds: DataSource): Promise<Generated> {
  const timeline = new Timeline(Date.now() - 200 * 86_400_000);
  const h: History = {
    timeline,
    write: async (e, changes) => {
      await withTransaction(ds, (tx) => writeGraphChanges(tx, e, changes));
    },
    curatedSha: await ingest(ds, timeline),
    baseModels: [0, 1].map((b) => ({ baseModelId: uuid(KIND.base, b), manifestSha256: sha(`base ${b}`) })),
    champion: new Map(),
  };
  for (const [b, base] of h.baseModels.entries()) {
    const data: TrainerData<'BaseModelRegistered'> = {
      ...base,
      preset: b === 0 ? 'tiny' : null,
      files: [file('model.safetensors', `base ${b}`, 9_000_000)],
      architecture: {
        modelType: 'llava',
        parameters: 2_300_000,
        vocabSize: 512,
        hiddenSize: 64,
        layers: 2,
        imageSize: 32,
        linearModules: ['q_proj', 'v_proj'],
      },
      pretraining: null,
    };
    const e = h.timeline.envelope('trainer', 'BaseModelRegistered', data, engineers[0]);
    await h.write(e, trainerChanges(e));
  }
  for (let v = 1; v <= VERSIONS; v++) {
    for (let d = 0; d < DATASETS; d++) await publishVersion(h, d, v);
    for (let r = (v - 1) * 4; r < v * 4; r++) {
      if (r === 10) await withdraw(h);
      await trainAndRegister(h, r);
    }
  }
  return expectedShape();
}

/** Subjects, their consents (every tenth has a second one, denying research) and 100,000 assets, in big batches. */
async function ingest(ds: DataSource, timeline: Timeline): Promise<string[]> {
  const bulk = new BulkGraphWriter(ds);
  const add = (type: string, data: unknown) => {
    const e = timeline.envelope('ingestion', type, data, steward);
    return bulk.add(e, ingestionChanges(e));
  };
  for (let s = 0; s < SUBJECTS; s++) {
    await add('SubjectRegistered', { subjectId: subjectId(s) });
    const consent: ConsentRecorded['data'] = {
      subjectId: subjectId(s),
      consentId: uuid(KIND.consent, s),
      status: 'active',
      decision: 'permit',
      purposes: ['model-training', 'research', 'human-annotation'],
      period: { start: null, end: null },
      sourceSha256: sha(`consent ${s}`),
      fhirVersion: s % 3 === 0 ? 'R4' : null,
    };
    await add('ConsentRecorded', consent);
    if (s % 10 === 0)
      await add('ConsentRecorded', {
        ...consent,
        consentId: uuid(KIND.consent, SUBJECTS + s),
        decision: 'deny',
        purposes: ['research'],
        sourceSha256: sha(`deny ${s}`),
      });
  }
  const curatedSha: string[] = [];
  for (let i = 0; i < ASSETS; i++) {
    // Seven PNG images in ten, two DICOM, one report describing the image before it.
    const report = i % 10 === 9;
    const dicom = i % 10 === 7 || i % 10 === 8;
    const raw = sha(`raw ${i}`);
    curatedSha.push(sha(`curated ${i}`));
    const derivative = report ? null : sha(`derivative ${i}`);
    const data: AssetIngestedV1Data = {
      assetId: uuid(KIND.asset, i),
      subjectId: subjectId(subjectOf(i)),
      kind: report ? 'report' : 'image',
      mimeType: report ? 'text/plain' : dicom ? 'application/dicom' : 'image/png',
      sha256: raw,
      size: 40_000 + (i % 5000),
      width: report ? null : 512,
      height: report ? null : 512,
      storage: {
        raw: `subjects/${subjectId(subjectOf(i))}/${raw}`,
        curated: `curated/${curatedSha[i]}`,
        curatedSha256: curatedSha[i],
        derivative: derivative && `derivatives/${derivative}`,
        derivativeSha256: derivative,
      },
      deidentification: report
        ? { method: 'hipaa-safe-harbor', options: [], summary: { name: 1, date: 2 } }
        : dicom
          ? { method: 'dicom-ps3.15-e1-basic', options: ['retain-longitudinal-temporal-off'], summary: { 'patient-identity': 6, dates: 4 } }
          : { method: 'none', options: [], summary: {} },
      describesAssetId: report ? uuid(KIND.asset, i - 1) : null,
    };
    await add('AssetIngested', data);
  }
  await bulk.flush();
  process.stderr.write(`  subjects, consents and assets: ${bulk.rows} rows in batches\n`);
  return curatedSha;
}

/** Version v of dataset d (its manifest's members), then the annotation set of its items. */
async function publishVersion(h: History, d: number, v: number): Promise<void> {
  const assets = members(d, v);
  const manifest: DatasetManifest = {
    datasetId: uuid(KIND.dataset, d),
    name: `cohort ${d}`,
    version: v,
    merkleRoot: sha(`dataset ${d} ${v}`),
    members: assets.map((a) => ({
      assetId: uuid(KIND.asset, a),
      subjectId: subjectId(subjectOf(a)),
      kind: a % 10 === 9 ? 'report' : 'image',
      mimeType: 'image/png',
      sha256: sha(`raw ${a}`),
      curatedKey: `curated/${h.curatedSha[a]}`,
      curatedSha256: h.curatedSha[a],
      derivativeKey: null,
      describesAssetId: null,
    })),
  };
  const published: DatasetVersionPublished['data'] = {
    datasetId: manifest.datasetId,
    name: manifest.name,
    version: v,
    merkleRoot: manifest.merkleRoot,
    memberCount: assets.length,
    manifest: { area: 'artifacts', key: `datasets/${d}/${v}`, sha256: sha(`manifest ${d} ${v}`) },
  };
  const e = h.timeline.envelope('ingestion', 'DatasetVersionPublished', published, steward);
  await h.write(e, ingestionChanges(e, manifest));

  const items: AnnotationSetArtifactItem[] = setItems(d, v).map((a) => ({
    itemId: uuid(KIND.asset, a),
    subjectId: subjectId(subjectOf(a)),
    image: `curated/${h.curatedSha[a]}`,
    imageSha256: h.curatedSha[a],
    textSha256: sha(`answer ${a}`),
    answer: { kind: 'caption', caption: `finding ${a % 7}` },
    source: a % 25 === 0 ? 'adjudication' : 'agreement',
    agreement: 0.8 + (a % 5) * 0.05,
    annotators: [annotators[a % 20], annotators[(a + 7) % 20]],
    reviewers: [reviewers[a % 4]],
  }));
  const set: AnnotationSetPublished['data'] = {
    ...setRef(d, v),
    datasetId: manifest.datasetId,
    datasetVersion: v,
    itemCount: items.length,
    leftOutCount: assets.length - items.length,
    leftOut: [{ reason: 'consent-withdrawn:human-annotation', count: assets.length - items.length }],
    pendingCount: 0,
    artifact: { area: 'artifacts', key: `sets/${d}/${v}`, sha256: sha(`artifact ${d} ${v}`) },
  };
  const s = h.timeline.envelope('annotation', 'AnnotationSetPublished', set, annotationService);
  await h.write(s, annotationChanges(s, items));
}

/** Twenty subjects withdraw consent to training after run 9: later snapshots leave them out, the ten versions before are flagged. */
async function withdraw(h: History): Promise<void> {
  for (let s = 0; s < WITHDRAWN; s++) {
    const data: ConsentWithdrawn['data'] = { subjectId: subjectId(s), consentId: uuid(KIND.consent, s), purposes: ['model-training'], eraseData: false };
    const e = h.timeline.envelope('ingestion', 'ConsentWithdrawn', data, steward);
    await h.write(e, ingestionChanges(e));
  }
  for (let r = 0; r < 10; r++) {
    const e = registryEvent(h.timeline, registryService, {
      type: 'ModelVersionFlagged',
      data: {
        modelId: uuid(KIND.model, r % 2),
        modelVersionId: uuid(KIND.version, r),
        trigger: 'consent-withdrawn',
        subjectIds: Array.from({ length: WITHDRAWN }, (_, s) => subjectId(s)),
        itemsAffected: snapshotOf(r).filter(withdrew).length,
        snapshotSha256: sha(`snapshot ${r}`),
      },
    });
    await h.write(e, registryChanges(e));
  }
}

/** Run r (request, snapshot, four checkpoints, completion), its model version, two evaluations and, for every other run, a promotion to champion. */
async function trainAndRegister(h: History, r: number): Promise<void> {
  const trainer = async (type: TrainerEvent['type'], data: unknown, actor: Actor, contents?: SnapshotContents) => {
    const e = h.timeline.envelope('trainer', type, data, actor);
    await h.write(e, trainerChanges(e, contents));
    return e;
  };
  const runId = uuid(KIND.run, r);
  const engineer = engineers[r % 3];
  const sets = runSets(r).map(({ d, v }) => setRef(d, v));
  const method = r % 5 === 4 ? 'qlora' : 'lora';
  const requested = await trainer(
    'TrainingRequested',
    {
      runId,
      method,
      baseModel: h.baseModels[r % 2],
      teacher: null,
      annotationSets: sets,
      evaluation: { kind: 'held-out', fraction: 0.1 },
      hyperparameters: {
        lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'v_proj'], rslora: false },
        learningRate: 0.001,
        warmupSteps: 10,
        schedule: 'cosine',
        weightDecay: 0,
        batchSize: 8,
        gradAccumulation: 1,
        maxGradNorm: 1,
        steps: 200,
        epochs: null,
        seed: r,
        evalEvery: 50,
        checkpointEvery: 50,
        distillation: null,
      },
      purpose: 'model-training',
      replaces: null,
      modelName: `bench-model-${r % 2}`,
    } satisfies TrainerData<'TrainingRequested'>,
    engineer,
  );

  const included = snapshotOf(r);
  const excluded = runSets(r).reduce((n, { d, v }) => n + setItems(d, v).length, 0) - included.length;
  const heldOut = (a: number) => subjectOf(a) % 10 === 0;
  const subjects = (xs: number[]) => new Set(xs.map(subjectOf)).size;
  const snapshot: TrainerData<'TrainingSnapshotFrozen'>['snapshot'] = {
    manifest: file('snapshot.json', `snapshot ${r}`, included.length * 300),
    merkleRoot: sha(`merkle ${r}`),
    includedItems: included.length,
    excludedItems: excluded,
    includedSubjects: subjects(included),
    excluded: excluded > 0 ? [{ reason: 'consent-withdrawn', count: excluded }] : [],
    trainItems: included.filter((a) => !heldOut(a)).length,
    heldOutItems: included.filter(heldOut).length,
    trainSubjects: subjects(included.filter((a) => !heldOut(a))),
    heldOutSubjects: subjects(included.filter(heldOut)),
    consentAsOf: requested.occurredAt,
  };
  const contents: SnapshotContents = {
    annotationSets: sets.map((s) => ({ setId: s.setId })),
    items: included.map((a) => ({ itemId: uuid(KIND.asset, a), subjectId: subjectId(subjectOf(a)), split: heldOut(a) ? 'held-out' : 'train' })),
  };
  await trainer('TrainingSnapshotFrozen', { runId, snapshot, totalSteps: 200, replaces: null }, trainerService, contents);
  for (const step of [50, 100, 150, 200])
    await trainer('TrainingCheckpointed', { runId, step, files: [file('adapter.safetensors', `cp ${r} ${step}`, 60_000)] }, trainerService);
  const adapter = file('adapter.safetensors', `adapter ${r}`, 60_000);
  const completed: TrainerData<'TrainingCompleted'> = {
    runId,
    artifacts: [adapter],
    steps: 200,
    finalTrainLoss: 1.2,
    finalHeldOutLoss: 1.4,
    baseHeldOutLoss: 2.1,
    tokensSeen: 800_000,
    wallSeconds: 190,
    backend: 'tensorflow',
  };
  await trainer('TrainingCompleted', completed, trainerService);

  const model = r % 2;
  const modelId = uuid(KIND.model, model);
  const modelVersionId = uuid(KIND.version, r);
  const { manifest, merkleRoot, includedItems, includedSubjects, heldOutItems, consentAsOf } = snapshot;
  const events: RegistryEvent[] = [
    {
      type: 'ModelVersionRegistered',
      data: {
        modelId,
        modelVersionId,
        version: Math.floor(r / 2) + 1,
        source: { kind: 'training-run', runId, requestedBy: engineer.id },
        method,
        baseModel: h.baseModels[model],
        files: [adapter],
        snapshot: { manifest, merkleRoot, includedItems, includedSubjects, heldOutItems, consentAsOf },
        annotationSets: sets,
        purpose: 'model-training',
        parameters: { languageModel: 2_000_000, visionEncoder: 250_000, projector: 50_000, total: 2_300_000, trainable: 16_384 },
      },
    },
  ];
  const evaluationSet = setRef((r + 5) % DATASETS, runSets(r)[0].v);
  for (const x of [0, 1]) {
    const evaluationId = uuid(KIND.evaluation, r * 2 + x);
    events.push(
      { type: 'EvaluationRequested', data: { evaluationId, modelId, modelVersionId, annotationSet: evaluationSet, seed: x, maxNewTokens: 40 } },
      {
        type: 'EvaluationCompleted',
        data: {
          evaluationId,
          modelId,
          modelVersionId,
          annotationSetSha256: evaluationSet.contentSha256,
          itemCount: evaluationSet.version * VERSION_STEP,
          metrics: { bleu: 20 + r, ciderD: 0.5, vqaAccuracy: 40 + r, perplexity: 8 - r / 10 },
          predictions: file('predictions.jsonl', `predictions ${r} ${x}`, 200_000),
          wallSeconds: 60,
        },
      },
    );
  }
  if (r % 4 >= 2) {
    const promotionId = uuid(KIND.promotion, r);
    const previous = h.champion.get(model) ?? null;
    const gates = (['metrics', 'parameter-budget', 'consent', 'model-card'] as const).map((gate) => ({ gate, passed: true, reason: 'passed' }));
    events.push(
      {
        type: 'PromotionRequested',
        data: {
          modelId,
          promotionId,
          alias: 'champion',
          modelVersionId,
          requestedBy: engineer.id,
          currentVersionId: previous,
          evaluationSetSha256: evaluationSet.contentSha256,
          tolerance: 1,
          reason: 'better held-out metrics',
        },
      },
      { type: 'PromotionGatesChecked', data: { modelId, promotionId, passed: true, verdicts: gates } },
      { type: 'PromotionApproved', data: { modelId, promotionId, approvedBy: approvers[model], comment: 'approved' } },
      {
        type: 'AliasMoved',
        data: { modelId, alias: 'champion', modelVersionId, previousVersionId: previous, kind: 'promotion', promotionId, reason: 'approved' },
      },
    );
    h.champion.set(model, modelVersionId);
  }
  const approver: Actor = { id: approvers[model], role: 'approver' };
  for (const event of events) {
    const by = ['PromotionApproved', 'AliasMoved'].includes(event.type)
      ? approver
      : ['PromotionRequested', 'EvaluationRequested'].includes(event.type)
        ? engineer
        : registryService;
    const e = registryEvent(h.timeline, by, event);
    await h.write(e, registryChanges(e));
  }
}

/** The inputs the measurement uses, known from the generator's rules without writing anything. */
function expectedShape(): Generated {
  return {
    modelVersions: Array.from({ length: RUNS }, (_, r) => uuid(KIND.version, r)),
    snapshotItems: Array.from({ length: RUNS }, (_, r) => snapshotOf(r).length),
    // Twenty subjects spread over the 1,000, the first of them one who withdrew.
    subjects: Array.from({ length: 20 }, (_, k) => subjectId(k * 50)),
  };
}

function registryEvent(timeline: Timeline, actor: Actor, event: RegistryEvent): EventEnvelope {
  return timeline.envelope('registry', event.type, event.data, actor);
}

// ------------------------------------------------------------------------------------------------
// The hand-written SQL: one statement per question, the same walks as the resolver's, answering
// the same facts (nodes with attributes and their states as of the moment, people, counts, log
// positions) as one JSON value. The provenance and impact walks have a fixed shape (each hop of a
// known type), so they are chains of CTEs; the depth-5 walk is the recursive one.
// ------------------------------------------------------------------------------------------------

/** Nodes of `ids` as of $2 with their latest states (a null value is a state that ended). */
const NODES_JSON = (idsCte: string) => `
  (SELECT coalesce(json_agg(json_build_object('id', n.id, 'type', n.type, 'class', n.class, 'label', n.label, 'attrs', n.attrs,
            'validFrom', n.valid_from, 'log', n.log, 'position', n.position,
            'states', coalesce((SELECT jsonb_object_agg(s.key, s.value) FROM (
               SELECT DISTINCT ON (key) key, value FROM lineage_node_states WHERE node_id = n.id AND valid_from <= $2 ORDER BY key, valid_from DESC, position DESC) s
             WHERE s.value <> 'null'::jsonb), '{}'::jsonb)) ORDER BY n.id), '[]')
   FROM lineage_nodes n WHERE n.id IN (SELECT id FROM ${idsCte}) AND n.valid_from <= $2)`;

const SQL = {
  modelProvenance: `
    WITH mv AS (SELECT id FROM lineage_nodes WHERE id = $1 AND valid_from <= $2),
    up AS (SELECT e.type, e.to_id FROM lineage_edges e JOIN mv ON e.from_id = mv.id WHERE e.valid_from <= $2),
    training AS (SELECT DISTINCT to_id AS id FROM up WHERE type = 'wasGeneratedBy' AND starts_with(to_id, 'training:')),
    snapshot AS (SELECT DISTINCT to_id AS id FROM up WHERE type = 'wasDerivedFrom' AND starts_with(to_id, 'snapshot:')),
    base AS (SELECT DISTINCT to_id AS id FROM up WHERE type = 'wasDerivedFrom' AND starts_with(to_id, 'base-model:')),
    sets AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN snapshot s ON e.from_id = s.id
             WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'annotation-set:') AND e.valid_from <= $2),
    annotation AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN sets s ON e.from_id = s.id
                   WHERE e.type = 'wasGeneratedBy' AND starts_with(e.to_id, 'annotation:') AND e.valid_from <= $2),
    datasets AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN sets s ON e.from_id = s.id
                 WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'dataset-version:') AND e.valid_from <= $2),
    evaluations AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN mv ON e.to_id = mv.id
                    WHERE e.type = 'wasDerivedFrom' AND starts_with(e.from_id, 'evaluation:') AND e.valid_from <= $2),
    promotions AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN mv ON e.to_id = mv.id
                   WHERE e.type = 'used' AND starts_with(e.from_id, 'promotion:') AND e.valid_from <= $2),
    curated AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN snapshot s ON e.from_id = s.id
                WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'curated-asset:') AND e.valid_from <= $2),
    raw AS (SELECT e.to_id AS id FROM lineage_edges e JOIN curated c ON e.from_id = c.id WHERE e.type = 'wasDerivedFrom' AND e.valid_from <= $2),
    subjects AS (SELECT DISTINCT e.to_id AS id FROM lineage_edges e JOIN raw r ON e.from_id = r.id
                 WHERE e.type = 'wasDerivedFrom' AND starts_with(e.to_id, 'subject:') AND e.valid_from <= $2),
    involved AS (SELECT id FROM mv UNION SELECT id FROM training UNION SELECT id FROM snapshot UNION SELECT id FROM base UNION SELECT id FROM sets
                 UNION SELECT id FROM annotation UNION SELECT id FROM datasets UNION SELECT id FROM evaluations UNION SELECT id FROM promotions),
    people AS (SELECT DISTINCT e.attrs->>'role' AS role, substr(e.to_id, 8) AS principal FROM lineage_edges e
               WHERE e.from_id IN (SELECT id FROM training UNION SELECT id FROM annotation UNION SELECT id FROM promotions)
                 AND e.type = 'wasAssociatedWith' AND starts_with(e.to_id, 'person:') AND e.valid_from <= $2),
    chain AS (SELECT log, position FROM lineage_nodes WHERE id IN (SELECT id FROM involved) AND valid_from <= $2
              UNION SELECT log, position FROM lineage_edges WHERE from_id IN (SELECT id FROM involved) AND valid_from <= $2
              UNION SELECT log, position FROM lineage_node_states WHERE node_id IN (SELECT id FROM involved) AND valid_from <= $2
              UNION SELECT e.log, e.position FROM lineage_edges e JOIN curated c ON e.from_id = c.id WHERE e.valid_from <= $2
              UNION SELECT n.log, n.position FROM lineage_nodes n JOIN curated c ON n.id = c.id WHERE n.valid_from <= $2)
    SELECT json_build_object(
      'nodes', ${NODES_JSON('involved')},
      'people', (SELECT json_object_agg(role, principals) FROM (SELECT role, json_agg(principal ORDER BY principal) AS principals FROM people GROUP BY role) p),
      'assets', (SELECT count(*) FROM curated),
      'subjects', (SELECT count(*) FROM subjects),
      'consents', (SELECT count(DISTINCT e.from_id) FROM lineage_edges e JOIN subjects s ON e.to_id = s.id WHERE starts_with(e.from_id, 'consent:') AND e.valid_from <= $2),
      'deidentification', (SELECT coalesce(json_agg(json_build_object('method', method, 'assets', assets) ORDER BY method), '[]') FROM (
         SELECT n.attrs->>'method' AS method, count(DISTINCT c.id) AS assets FROM curated c
         JOIN lineage_edges g ON g.from_id = c.id AND g.type = 'wasGeneratedBy' AND g.valid_from <= $2
         JOIN lineage_nodes n ON n.id = g.to_id AND n.type = 'deidentification' GROUP BY 1) d),
      'restsOn', (SELECT json_agg(json_build_object('log', log, 'events', events, 'positions', positions) ORDER BY log) FROM (
         SELECT log, count(*) AS events, (array_agg(position ORDER BY position))[1:${MAX_POSITIONS}] AS positions FROM chain GROUP BY log) r)
    ) AS answer`,
  consentImpact: `
    WITH subject AS (SELECT id FROM lineage_nodes WHERE id = $1 AND valid_from <= $2),
    consents AS (SELECT e.from_id AS id FROM lineage_edges e JOIN subject s ON e.to_id = s.id WHERE e.type = 'wasDerivedFrom' AND starts_with(e.from_id, 'consent:') AND e.valid_from <= $2),
    raw AS (SELECT e.from_id AS id FROM lineage_edges e JOIN subject s ON e.to_id = s.id WHERE e.type = 'wasDerivedFrom' AND starts_with(e.from_id, 'asset:') AND e.valid_from <= $2),
    curated AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN raw r ON e.to_id = r.id
                WHERE e.type = 'wasDerivedFrom' AND starts_with(e.from_id, 'curated-asset:') AND e.valid_from <= $2),
    downstream AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN curated c ON e.to_id = c.id WHERE e.type = 'wasDerivedFrom' AND e.valid_from <= $2),
    datasets AS (SELECT id FROM downstream WHERE starts_with(id, 'dataset-version:')),
    sets AS (SELECT id FROM downstream WHERE starts_with(id, 'annotation-set:')),
    snapshots AS (SELECT id FROM downstream WHERE starts_with(id, 'snapshot:')),
    runs AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN snapshots s ON e.to_id = s.id WHERE e.type = 'used' AND starts_with(e.from_id, 'training:') AND e.valid_from <= $2),
    versions AS (SELECT DISTINCT e.from_id AS id FROM lineage_edges e JOIN snapshots s ON e.to_id = s.id
                 WHERE e.type = 'wasDerivedFrom' AND starts_with(e.from_id, 'model-version:') AND e.valid_from <= $2),
    assets AS (SELECT id FROM raw UNION SELECT id FROM curated)
    SELECT json_build_object('subject', ${NODES_JSON('subject')}, 'consents', ${NODES_JSON('consents')}, 'assets', ${NODES_JSON('assets')},
      'datasetVersions', ${NODES_JSON('datasets')}, 'annotationSets', ${NODES_JSON('sets')}, 'snapshots', ${NODES_JSON('snapshots')},
      'trainingRuns', ${NODES_JSON('runs')}, 'modelVersions', ${NODES_JSON('versions')}) AS answer`,
  /** $1 start, $2 as of, $3 depth, $4 'up' or 'down'. */
  lineage: `
    WITH RECURSIVE walk(id, depth) AS (
      SELECT $1::text, 0
      UNION
      SELECT CASE WHEN $4 = 'up' THEN e.to_id ELSE e.from_id END, w.depth + 1 FROM walk w
        JOIN lineage_edges e ON (CASE WHEN $4 = 'up' THEN e.from_id ELSE e.to_id END) = w.id AND e.valid_from <= $2
       WHERE w.depth < $3),
    reached AS (SELECT DISTINCT id FROM walk LIMIT ${MAX_NODES + 1}),
    kept AS (SELECT id FROM reached LIMIT ${MAX_NODES})
    SELECT json_build_object(
      'nodes', ${NODES_JSON('kept')},
      'edges', (SELECT coalesce(json_agg(json_build_object('from', e.from_id, 'type', e.type, 'to', e.to_id, 'attrs', e.attrs, 'validFrom', e.valid_from,
                  'log', e.log, 'position', e.position) ORDER BY e.from_id, e.type, e.to_id), '[]')
                FROM lineage_edges e WHERE e.from_id IN (SELECT id FROM kept) AND e.to_id IN (SELECT id FROM kept) AND e.valid_from <= $2),
      'truncated', (SELECT count(*) > ${MAX_NODES} FROM reached)
    ) AS answer`,
};

/** What the SQL answer says, in the shape GRAPHQL_READ gives the GraphQL one. */
const SQL_READ = {
  modelProvenance: (a: Record<string, unknown>) => {
    const nodes = a.nodes as { id: string; type: string }[];
    const of = (type: string) =>
      nodes
        .filter((n) => n.type === type)
        .map((n) => n.id)
        .sort();
    const people = (a.people ?? {}) as Record<string, string[]>;
    return {
      nodes: ['model-version', 'base-model', 'training', 'snapshot'].map((t) => of(t)[0] ?? null),
      annotationSets: of('annotation-set'),
      datasetVersions: of('dataset-version'),
      evaluations: of('evaluation'),
      promotions: of('promotion'),
      people: ['requester', 'annotator', 'reviewer', 'approver'].map((r) => people[r] ?? []),
      counts: [a.assets, a.subjects, a.consents],
      deidentification: a.deidentification,
      restsOn: (a.restsOn as { log: string; events: number; positions: number[] }[]).map((r) => [r.log, r.events, r.positions.length]),
    };
  },
  consentImpact: (a: Record<string, unknown>) =>
    Object.fromEntries(
      ['consents', 'assets', 'datasetVersions', 'annotationSets', 'snapshots', 'trainingRuns', 'modelVersions'].map((k) => [
        k,
        (a[k] as Node[]).map((n) => n.id).sort(),
      ]),
    ),
  lineage: (a: Record<string, unknown>) => ({
    nodes: (a.nodes as Node[]).length,
    edges: a.truncated ? null : (a.edges as unknown[]).length,
    truncated: a.truncated,
  }),
};

// ------------------------------------------------------------------------------------------------
// The service, the callers and the measurement
// ------------------------------------------------------------------------------------------------

/** The lineage service's own main.ts in a child process; resolves once it listens. */
function startLineageService(url: string, port: number): Promise<ChildProcess> {
  const root = join(__dirname, '..');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'services/lineage/src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      HOST: '127.0.0.1',
      TRELLIS_MESSAGING: 'in-process',
      NO_COLOR: '1',
      KAFKA_BROKERS: '',
      TRELLIS_DATA_DIR: join(root, '.trellis', 'bench-data', 'lineage-files'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let ready = false;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        // Its start-up lines (modules, routes) are left out; warnings, errors and the address are shown.
        if (!/ LOG /.test(line) || line.includes('listening on')) process.stderr.write(`  [lineage] ${line}\n`);
        if (!ready && line.includes('listening on http://')) {
          ready = true;
          resolve(child);
        }
      });
    }
    child.on('exit', (code) => {
      if (!ready) reject(new Error(`the lineage service exited (${code}) before it listened`));
    });
  });
}

async function stopLineageService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Real API tokens through the same use case as `npm run token` (AuthModule over this database). */
async function issueTokens(ds: DataSource, roles: string[]): Promise<Record<string, string>> {
  const store = new PostgresEventStore(ds, new EventContractRegistry().include(authContracts));
  const eventStore = {
    module: class BenchEventStore {},
    global: true,
    providers: [{ provide: PostgresEventStore, useValue: store }],
    exports: [PostgresEventStore],
  };
  const app = await NestFactory.createApplicationContext(
    { module: class BenchTokenModule {}, imports: [DatabaseModule.forDataSource(ds, 'external'), eventStore, AuthModule] },
    { logger: ['error', 'warn'] },
  );
  try {
    const tokens: Record<string, string> = {};
    for (const role of roles)
      tokens[role] = (await app.get(ApiTokenUseCases).issue({ label: `bench ${role}`, roles: [role] }, { id: 'bench', role: 'admin' })).token;
    return tokens;
  } finally {
    await app.close();
  }
}

type Operation = 'modelProvenance' | 'consentImpact' | 'lineage';

async function graphql(port: number, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`HTTP ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  return body.data;
}

/** Which shape the running service gives the long lists (see GRAPHQL). */
async function listShape(port: number, token: string): Promise<ListShape> {
  const d = (await graphql(port, token, GRAPHQL.shape)) as {
    __type: { fields: { name: string; type: { name: string | null; ofType: { name: string | null } | null } }[] };
  };
  const assets = d.__type.fields.find((f) => f.name === 'assets');
  return [assets?.type.name, assets?.type.ofType?.name].includes('LineageNodeConnection') ? 'connection' : 'list';
}

interface Case {
  /** The prefix of its figures in the JSON line. */
  key: string;
  name: string;
  op: Operation;
  callers: ('auditor' | 'admin')[];
  /** Inputs taken in turn: the GraphQL variables and the SQL parameters for each. */
  inputs: { variables: Record<string, unknown>; params: unknown[] }[];
}

interface Measured {
  key: string;
  name: string;
  caller: string;
  graphql: number[];
  sql: number[];
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function measure(ds: DataSource, port: number, shape: ListShape, caller: string, token: string, c: Case): Promise<Measured> {
  const query = GRAPHQL[c.op](shape);
  const viaGraphql = (k: number) => graphql(port, token, query, c.inputs[k % c.inputs.length].variables);
  const viaSql = async (k: number) => ((await ds.query(SQL[c.op], c.inputs[k % c.inputs.length].params)) as { answer: Record<string, unknown> }[])[0].answer;
  // Warm-up, which also holds both answers to each other for every input.
  for (let k = 0; k < Math.max(WARMUP, c.inputs.length); k++) {
    const g = JSON.stringify(GRAPHQL_READ[c.op](await viaGraphql(k)));
    const s = JSON.stringify(SQL_READ[c.op](await viaSql(k)));
    if (k < c.inputs.length && g !== s)
      throw new Error(`${c.name}: GraphQL and SQL answers differ for input ${k}:\n  graphql ${g.slice(0, 800)}\n  sql     ${s.slice(0, 800)}`);
  }
  const m: Measured = { key: c.key, name: c.name, caller, graphql: [], sql: [] };
  // Interleaved, each side first every other time, so that neither alone gets a warmer cache.
  for (let k = 0; k < ITERATIONS; k++) {
    if (k % 2 === 0) {
      m.graphql.push(await elapsedMs(() => viaGraphql(k)));
      m.sql.push(await elapsedMs(() => viaSql(k)));
    } else {
      m.sql.push(await elapsedMs(() => viaSql(k)));
      m.graphql.push(await elapsedMs(() => viaGraphql(k)));
    }
  }
  m.graphql.sort((a, b) => a - b);
  m.sql.sort((a, b) => a - b);
  process.stderr.write(`  ${c.name} (${caller}): done\n`);
  return m;
}

async function main(): Promise<void> {
  const pg = await benchPostgres('lineage', Number(process.env.TRELLIS_BENCH_PG_PORT || 54373));
  const port = Number(process.env.BENCH_LINEAGE_PORT || 3095);
  const ds = await createDataSource({ url: pg.url, poolSize: 4, migrations: MIGRATIONS });
  let service: ChildProcess | undefined;
  try {
    // --- the graph (kept when DATABASE_URL names a database that already holds this bench's graph)
    const lastVersion = ids.modelVersion(uuid(KIND.version, RUNS - 1));
    const [{ nodes: existing, ours }] = await ds.query('SELECT count(*)::int AS nodes, count(*) FILTER (WHERE id = $1)::int AS ours FROM lineage_nodes', [
      lastVersion,
    ]);
    let generationSeconds: number | null = null;
    let generated: Generated;
    if (existing > 0 && ours === 1) {
      process.stderr.write('the graph of a previous run of this bench is there: kept\n');
      generated = expectedShape();
    } else if (existing > 0) {
      throw new Error('lineage_nodes already holds a graph this bench did not make: use an empty database');
    } else {
      process.stderr.write(`generating the graph (${ASSETS} assets, ${SUBJECTS} subjects, ${DATASETS * VERSIONS} dataset versions, ${RUNS} runs) ...\n`);
      const t = process.hrtime.bigint();
      generated = await generate(ds);
      await ds.query('VACUUM ANALYZE lineage_nodes, lineage_edges, lineage_node_states');
      generationSeconds = Number(process.hrtime.bigint() - t) / 1e9;
      process.stderr.write(`  generated in ${generationSeconds.toFixed(1)} s\n`);
    }
    const [size] = await ds.query(
      `SELECT (SELECT count(*) FROM lineage_nodes)::int AS nodes, (SELECT count(*) FROM lineage_edges)::int AS edges, (SELECT count(*) FROM lineage_node_states)::int AS states`,
    );

    // --- the service and its callers
    const tokens = await issueTokens(ds, ['auditor', 'admin']);
    process.stderr.write('starting the lineage service ...\n');
    service = await startLineageService(pg.url, port);
    const shape = await listShape(port, tokens.admin);
    process.stderr.write(`the service serves the long lists as ${shape === 'list' ? 'plain lists' : 'Relay connections (first page asked for)'}\n`);

    const asOf = new Date(Date.now() + 60_000);
    const cases: Case[] = [
      {
        key: 'provenance',
        name: `modelProvenance (${RUNS} versions in turn)`,
        op: 'modelProvenance',
        callers: ['auditor', 'admin'],
        inputs: generated.modelVersions.map((v) => ({ variables: { id: v }, params: [ids.modelVersion(v), asOf] })),
      },
      {
        key: 'impact',
        name: `consentImpact (${generated.subjects.length} subjects in turn)`,
        op: 'consentImpact',
        callers: ['auditor', 'admin'],
        inputs: generated.subjects.map((s) => ({ variables: { id: s }, params: [ids.subject(s), asOf] })),
      },
      {
        key: 'lineage',
        name: `lineage depth ${WALK_DEPTH} DOWNSTREAM from a subject`,
        op: 'lineage',
        callers: ['auditor', 'admin'],
        inputs: generated.subjects.map((s) => ({
          variables: { id: ids.subject(s), direction: 'DOWNSTREAM', depth: WALK_DEPTH },
          params: [ids.subject(s), asOf, WALK_DEPTH, 'down'],
        })),
      },
      // An extra: the walk that hits the node cap (slow on both sides, so measured for the auditor only).
      {
        key: 'lineage_upstream',
        name: `lineage depth ${WALK_DEPTH} UPSTREAM from a version (${MAX_NODES} node cap)`,
        op: 'lineage',
        callers: ['auditor'],
        inputs: generated.modelVersions.map((v) => ({
          variables: { id: ids.modelVersion(v), direction: 'UPSTREAM', depth: WALK_DEPTH },
          params: [ids.modelVersion(v), asOf, WALK_DEPTH, 'up'],
        })),
      },
    ];
    const results: Measured[] = [];
    for (const c of cases) for (const caller of c.callers) results.push(await measure(ds, port, shape, caller, tokens[caller], c));
    await stopLineageService(service);
    service = undefined;

    const ms = (x: number) => x.toFixed(1);
    const p = (xs: number[], q: number) => percentile(xs, q);
    printTable(
      `Lineage reads over GraphQL/HTTP (lineage service, child process) beside hand-written SQL, same run: ${size.nodes} nodes, ${size.edges} edges, ${size.states} states; ${ITERATIONS} iterations each after ${WARMUP} warm-up; ms`,
      [
        ['operation', 'caller', 'GraphQL p50', 'GraphQL p95', 'SQL p50', 'SQL p95', 'ratio p95'],
        ...results.map((r) => [
          r.name,
          r.caller,
          ms(p(r.graphql, 50)),
          ms(p(r.graphql, 95)),
          ms(p(r.sql, 50)),
          ms(p(r.sql, 95)),
          (p(r.graphql, 95) / p(r.sql, 95)).toFixed(2),
        ]),
      ],
    );
    console.log(
      `\nsnapshots of the ${RUNS} versions: ${Math.min(...generated.snapshotItems)} to ${Math.max(...generated.snapshotItems)} items; generation ${generationSeconds === null ? 'skipped (graph kept)' : `${generationSeconds.toFixed(1)} s`}`,
    );
    const round = (x: number) => Number(x.toFixed(2));
    const figures: Record<string, unknown> = { caller: 'auditor', lists: shape };
    for (const r of results) {
      if (r.caller === 'admin') {
        figures[`admin_${r.key}_p95_ms`] = round(p(r.graphql, 95));
        continue;
      }
      figures[`${r.key}_p50_ms`] = round(p(r.graphql, 50));
      figures[`${r.key}_p95_ms`] = round(p(r.graphql, 95));
      figures[`${r.key}_sql_p50_ms`] = round(p(r.sql, 50));
      figures[`${r.key}_sql_p95_ms`] = round(p(r.sql, 95));
      figures[r.key === 'provenance' ? 'ratio_vs_sql' : `${r.key}_ratio_vs_sql`] = round(p(r.graphql, 95) / p(r.sql, 95));
    }
    Object.assign(figures, {
      nodes: size.nodes,
      edges: size.edges,
      snapshot_items_max: Math.max(...generated.snapshotItems),
      generation_s: generationSeconds === null ? null : round(generationSeconds),
      iterations: ITERATIONS,
    });
    console.log(JSON.stringify(figures));
  } finally {
    if (service) await stopLineageService(service);
    await ds.destroy();
    await pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
