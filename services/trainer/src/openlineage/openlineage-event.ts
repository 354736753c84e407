import type { AnnotationSetRef, StoredFile, TrainingFailed, TrainingMethod, TrainingSnapshotFrozen } from '@trellis/contracts';
import type { RunStatus } from '../runs/run.decider';
import { OpenLineageErrorCode, OpenLineageException } from './openlineage.exception';

/*
 * OpenLineage run events for training runs, built as plain objects so that the same event goes to
 * Kafka and to an HTTP collector byte for byte. Pure: the clock and the run id come from the caller.
 *
 * Only facets whose schemas sit in ./spec are emitted: the unit spec checks each against its own
 * schema, and a facet nobody checked could be dropped by a strict collector without a word. An event
 * carries ids, content hashes, counts and storage keys, never personal data: the dataset type has
 * fields for nothing else, and the helpers at the end fill names from ids and storage keys only.
 */

export const OPENLINEAGE_TOPIC = 'trellis.openlineage.v1';
export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
/** Constant rather than read from package.json: a producer URI names the code, and 0.1.0 is the only release. */
export const TRELLIS_OPENLINEAGE_PRODUCER = 'https://github.com/trellis/trellis/tree/0.1.0/services/trainer';
export const TRELLIS_JOB_NAMESPACE = 'trellis';
export const TRELLIS_DATASET_NAMESPACE = 'trellis';

/** `$id` of each facet schema in ./spec plus the pointer to its definition; the unit spec ties the two together. */
export const FACET_SCHEMA_URL = {
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  nominalTime: 'https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet',
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  version: 'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
  inputStatistics: 'https://openlineage.io/spec/facets/1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet',
  outputStatistics: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
} as const;

/** OTHER is left out: every event we send is a transition of the run. */
export const RUN_EVENT_TYPES = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL'] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

export type RunOutcome = Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>;

export function eventTypeForOutcome(outcome: RunOutcome): 'COMPLETE' | 'FAIL' | 'ABORT' {
  switch (outcome) {
    case 'completed':
      return 'COMPLETE';
    case 'failed':
      return 'FAIL';
    case 'cancelled':
      return 'ABORT';
    default:
      return unreachableOutcome(outcome);
  }
}

function unreachableOutcome(value: never): never {
  throw new Error(`unmapped run outcome ${String(value)}`);
}

export interface LineageJob {
  namespace: string;
  name: string;
}

export interface LineageDataset {
  namespace: string;
  name: string;
  /** An immutable version of exactly the bytes used or produced, such as a content hash; becomes the `version` facet. */
  version?: string;
  /** Read or written counts; become the `inputStatistics` or `outputStatistics` facet. */
  rowCount?: number;
  size?: number;
  fileCount?: number;
}

export interface RunEventInput {
  eventType: RunEventType;
  /** RFC 3339 with an offset, e.g. `new Date().toISOString()` at the caller. */
  eventTime: string;
  runId: string;
  job: LineageJob;
  inputs: LineageDataset[];
  outputs: LineageDataset[];
  producer?: string;
  parentRun?: { runId: string; job: LineageJob };
  facets?: {
    /** For FAIL: our failure code and its reason, never a raw exception that might quote data. */
    error?: { message: string; stackTrace?: string };
    nominalTime?: { start: string; end?: string };
  };
}

interface BaseFacet {
  _producer: string;
  _schemaURL: string;
}

type Facets = Record<string, BaseFacet & Record<string, unknown>>;

export interface OpenLineageInputDataset {
  namespace: string;
  name: string;
  facets: Facets;
  inputFacets: Facets;
}

export interface OpenLineageOutputDataset {
  namespace: string;
  name: string;
  facets: Facets;
  outputFacets: Facets;
}

/** A 2-0-2 RunEvent as it goes on the wire. */
export interface OpenLineageRunEvent {
  eventType: RunEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets: Facets };
  job: { namespace: string; name: string; facets: Facets };
  inputs: OpenLineageInputDataset[];
  outputs: OpenLineageOutputDataset[];
}

// ErrorMessageRunFacet requires it; the spec's own examples use upper-case language names.
const PROGRAMMING_LANGUAGE = 'TYPESCRIPT';
// The failure reason is at most 2000 characters by contract; the caps keep a runaway stack from
// growing one Kafka message past what a collector takes.
const MAX_ERROR_MESSAGE = 2000;
const MAX_STACK_TRACE = 16_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// JSON Schema's date-time is RFC 3339: a full date, a full time and an offset are all required.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function buildRunEvent(input: RunEventInput): OpenLineageRunEvent {
  const producer = input.producer ?? TRELLIS_OPENLINEAGE_PRODUCER;
  checkInput(input, producer);
  const facet = (schemaURL: string, fields: Record<string, unknown>) => ({ _producer: producer, _schemaURL: schemaURL, ...fields });

  const runFacets: Facets = {};
  const { error, nominalTime } = input.facets ?? {};
  if (input.parentRun) {
    runFacets.parent = facet(FACET_SCHEMA_URL.parent, {
      run: { runId: input.parentRun.runId },
      job: { namespace: input.parentRun.job.namespace, name: input.parentRun.job.name },
    });
  }
  if (nominalTime) {
    runFacets.nominalTime = facet(FACET_SCHEMA_URL.nominalTime, {
      nominalStartTime: nominalTime.start,
      ...(nominalTime.end !== undefined && { nominalEndTime: nominalTime.end }),
    });
  }
  if (error) {
    runFacets.errorMessage = facet(FACET_SCHEMA_URL.errorMessage, {
      message: truncate(error.message, MAX_ERROR_MESSAGE),
      programmingLanguage: PROGRAMMING_LANGUAGE,
      ...(error.stackTrace !== undefined && { stackTrace: truncate(error.stackTrace, MAX_STACK_TRACE) }),
    });
  }

  const datasetFacets = (d: LineageDataset): Facets =>
    d.version === undefined ? {} : { version: facet(FACET_SCHEMA_URL.version, { datasetVersion: d.version }) };
  const statistics = (d: LineageDataset, key: 'inputStatistics' | 'outputStatistics'): Facets => {
    const counts = {
      ...(d.rowCount !== undefined && { rowCount: d.rowCount }),
      ...(d.size !== undefined && { size: d.size }),
      ...(d.fileCount !== undefined && { fileCount: d.fileCount }),
    };
    return Object.keys(counts).length > 0 ? { [key]: facet(FACET_SCHEMA_URL[key], counts) } : {};
  };

  return {
    eventType: input.eventType,
    eventTime: input.eventTime,
    producer,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: { runId: input.runId, facets: runFacets },
    job: {
      namespace: input.job.namespace,
      name: input.job.name,
      facets: { jobType: facet(FACET_SCHEMA_URL.jobType, { processingType: 'BATCH', integration: 'TRELLIS', jobType: 'TRAINING' }) },
    },
    inputs: input.inputs.map((d) => ({ namespace: d.namespace, name: d.name, facets: datasetFacets(d), inputFacets: statistics(d, 'inputStatistics') })),
    outputs: input.outputs.map((d) => ({ namespace: d.namespace, name: d.name, facets: datasetFacets(d), outputFacets: statistics(d, 'outputStatistics') })),
  };
}

/*
 * The builder refuses what the schema would refuse, so a bad event fails in the trainer's tests
 * rather than being dropped by a collector later. Every problem is listed, each naming its field.
 */
function checkInput(input: RunEventInput, producer: string): void {
  const problems: [field: string, message: string][] = [];
  const text = (field: string, value: unknown) => {
    if (typeof value !== 'string' || value.length === 0) problems.push([field, 'must be a non-empty string']);
  };
  const uuid = (field: string, value: unknown) => {
    if (typeof value !== 'string' || !UUID.test(value)) problems.push([field, 'must be a UUID']);
  };
  const dateTime = (field: string, value: unknown) => {
    if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))
      problems.push([field, 'must be an RFC 3339 date-time with an offset']);
  };
  const count = (field: string, value: unknown) => {
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) problems.push([field, 'must be a non-negative integer']);
  };

  if (!(RUN_EVENT_TYPES as readonly string[]).includes(input.eventType)) problems.push(['eventType', `must be one of ${RUN_EVENT_TYPES.join(', ')}`]);
  dateTime('eventTime', input.eventTime);
  uuid('runId', input.runId);
  text('job.namespace', input.job?.namespace);
  text('job.name', input.job?.name);
  if (!isAbsoluteUri(producer)) problems.push(['producer', 'must be an absolute URI']);
  for (const [side, list] of [
    ['inputs', input.inputs],
    ['outputs', input.outputs],
  ] as const) {
    if (!Array.isArray(list)) {
      problems.push([side, 'must be an array']);
      continue;
    }
    list.forEach((d, i) => {
      text(`${side}.${i}.namespace`, d.namespace);
      text(`${side}.${i}.name`, d.name);
      if (d.version !== undefined) text(`${side}.${i}.version`, d.version);
      count(`${side}.${i}.rowCount`, d.rowCount);
      count(`${side}.${i}.size`, d.size);
      count(`${side}.${i}.fileCount`, d.fileCount);
    });
  }
  if (input.parentRun) {
    uuid('parentRun.runId', input.parentRun.runId);
    text('parentRun.job.namespace', input.parentRun.job?.namespace);
    text('parentRun.job.name', input.parentRun.job?.name);
  }
  const { error, nominalTime } = input.facets ?? {};
  if (error) {
    text('facets.error.message', error.message);
    if (error.stackTrace !== undefined && typeof error.stackTrace !== 'string') problems.push(['facets.error.stackTrace', 'must be a string']);
  }
  if (nominalTime) {
    dateTime('facets.nominalTime.start', nominalTime.start);
    if (nominalTime.end !== undefined) dateTime('facets.nominalTime.end', nominalTime.end);
  }

  if (problems.length > 0) {
    throw new OpenLineageException(
      OpenLineageErrorCode.InvalidEvent,
      `invalid OpenLineage run event: ${problems.map(([f, m]) => `${f}: ${m}`).join('; ')}`,
      problems.map(([f]) => f),
    );
  }
}

function isAbsoluteUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/*
 * Names for what a training run reads and writes, taken from the trainer contract so that every
 * event names the same dataset the same way (and the registry can later name an artifact it
 * consumes identically). Stored files are named by their storage key in the `artifacts` area:
 * keys are content addressed, so a name never points at other bytes.
 */

/** One job per training method: runs of one method are the recurring transformation a lineage tool groups. */
export function trainingJob(method: TrainingMethod, namespace: string = TRELLIS_JOB_NAMESPACE): LineageJob {
  return { namespace, name: `trainer.${method}` };
}

export function annotationSetDataset(ref: AnnotationSetRef, namespace: string = TRELLIS_DATASET_NAMESPACE): LineageDataset {
  return { namespace, name: `annotation-sets/${ref.setId}`, version: ref.contentSha256 };
}

/** The frozen snapshot: its manifest's hash names exactly the consent-safe items trained on. */
export function snapshotDataset(snapshot: TrainingSnapshotFrozen['data']['snapshot'], namespace: string = TRELLIS_DATASET_NAMESPACE): LineageDataset {
  return { namespace, name: storedFileName(snapshot.manifest), version: snapshot.manifest.sha256, rowCount: snapshot.includedItems };
}

export function artifactDataset(file: StoredFile, namespace: string = TRELLIS_DATASET_NAMESPACE): LineageDataset {
  return { namespace, name: storedFileName(file), version: file.sha256, size: file.size, fileCount: 1 };
}

/**
 * TrainingCompleted lists the snapshot manifest among its artifacts (so the registry finds it with
 * the weights); as an output it would make the snapshot look produced by the run that read it.
 */
export function artifactDatasets(artifacts: StoredFile[], snapshot: TrainingSnapshotFrozen['data']['snapshot'] | null, namespace?: string): LineageDataset[] {
  return artifacts.filter((f) => !snapshot || f.key !== snapshot.manifest.key).map((f) => artifactDataset(f, namespace));
}

/** The reason is the contract's, written for people and free of personal data; the code goes first so tools can group by it. */
export function failureError(failed: Pick<TrainingFailed['data'], 'code' | 'reason'>): { message: string } {
  return { message: `${failed.code}: ${failed.reason}` };
}

function storedFileName(file: StoredFile): string {
  return `artifacts/${file.key}`;
}
