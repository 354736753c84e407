/**
 * `npm run docs:events`: writes docs/events.md, the catalogue of every event the platform records,
 * from the registered contracts themselves: per log its Kafka topic, and per event type and
 * schema version the fields of its data as the zod schema defines them. Committed, so that a
 * change to a contract shows in review; test/contracts/event-catalogue.unit.spec.ts fails when
 * the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ZodTypeAny } from 'zod';
import {
  ANNOTATION_LOG,
  annotationContracts,
  AUDIT_LOG,
  auditContracts,
  ContractEvent,
  EventContract,
  EventContractRegistry,
  INGESTION_LOG,
  ingestionContracts,
  OPENLINEAGE_IMPORT_LOG,
  OPENLINEAGE_LOG,
  openLineageContracts,
  openLineageImportContracts,
  REGISTRY_LOG,
  registryContracts,
  topicFor,
  TRAINER_LOG,
  trainerContracts,
  Upcaster,
} from '@trellis/contracts';
// The token events alone, not @trellis/auth's index, which brings Nest along.
import { AUTH_LOG, authContracts } from '../libs/auth/src/tokens/api-token.events';
import { code, SchemaField, schemaFields } from './zod-schema-fields';

export const EVENTS_FILE = join(__dirname, '..', 'docs', 'events.md');

export interface CatalogueLog {
  log: string;
  contracts: EventContractRegistry;
  /** What a Kafka message of the log's topic carries (MessagingModule's `dataOnlyLogs` in services/platform). */
  kafkaPayload: 'envelope' | 'data';
}

/** Every log the platform appends to, in the order of the lifecycle; each with the contracts of its events. */
export const CATALOGUE_LOGS: readonly CatalogueLog[] = [
  { log: INGESTION_LOG, contracts: ingestionContracts, kafkaPayload: 'envelope' },
  { log: ANNOTATION_LOG, contracts: annotationContracts, kafkaPayload: 'envelope' },
  { log: TRAINER_LOG, contracts: trainerContracts, kafkaPayload: 'envelope' },
  { log: OPENLINEAGE_LOG, contracts: openLineageContracts, kafkaPayload: 'data' },
  { log: REGISTRY_LOG, contracts: registryContracts, kafkaPayload: 'envelope' },
  { log: OPENLINEAGE_IMPORT_LOG, contracts: openLineageImportContracts, kafkaPayload: 'envelope' },
  { log: AUDIT_LOG, contracts: auditContracts, kafkaPayload: 'envelope' },
  { log: AUTH_LOG, contracts: authContracts, kafkaPayload: 'envelope' },
];

export interface RegisteredContract {
  type: string;
  version: number;
  schema: ZodTypeAny;
  /** Set when an upcaster reads this version as the next one. */
  upcastTo?: number;
}

/**
 * The registry's contracts in the order they were registered (each type at its first
 * registration, its versions in order). The registry keeps them private and hands them on only
 * through `include`, which calls `register` for each: a registry that notes those calls sees them all.
 */
class ContractRecorder extends EventContractRegistry {
  readonly recorded: EventContract[] = [];
  readonly upcastFrom = new Set<string>();

  override register<TType extends string, TData>(
    contract: EventContract<TData> & { type: TType },
  ): EventContractRegistry<ContractEvent | { type: TType; data: TData }> {
    this.recorded.push(contract as EventContract);
    return super.register(contract);
  }

  override registerUpcaster(type: string, fromVersion: number, upcast: Upcaster): this {
    this.upcastFrom.add(`${type} ${fromVersion}`);
    return super.registerUpcaster(type, fromVersion, upcast);
  }
}

export function registeredContracts(registry: EventContractRegistry): RegisteredContract[] {
  const recorder = new ContractRecorder();
  recorder.include(registry);
  return recorder.recorded.map((c) => ({
    type: c.type,
    version: c.version,
    schema: c.schema as ZodTypeAny,
    ...(recorder.upcastFrom.has(`${c.type} ${c.version}`) ? { upcastTo: c.version + 1 } : {}),
  }));
}

const HEADER = '<!-- Generated from the registered event contracts by `npm run docs:events`; do not edit. -->\n';

/** docs/events.md as the contracts define it now. */
export function renderEventCatalogue(logs: readonly CatalogueLog[] = CATALOGUE_LOGS): string {
  const perLog = logs.map((l) => ({ ...l, events: registeredContracts(l.contracts) }));
  const owner = new Map<string, string>();
  for (const l of perLog) {
    for (const e of l.events) {
      const other = owner.get(e.type);
      if (other !== undefined && other !== l.log) throw new Error(`${e.type} is registered for two logs, ${other} and ${l.log}`);
      owner.set(e.type, l.log);
    }
  }

  const lines: string[] = [
    HEADER,
    '# Event catalogue',
    '',
    'Every event the platform records, per log, as the contracts registered in `libs/contracts` (and',
    '`libs/auth` for tokens) define it: each event type and schema version, and the fields of its data.',
    'An older version is upcast to the current one when read; stored events are never rewritten. Each',
    'log is relayed to its Kafka topic, one message per event carrying its envelope (README, "The event',
    'store") with the data below, unless the log says otherwise.',
    '',
    'Fields: `a.b` is field `b` of object `a`; `a[]` each item of array `a`; `a.*` each value of record',
    '`a`; `a{kind=x}` the shape of union `a` whose `kind` is `x`, `a{2}` its second option. Presence:',
    '*required*, *optional* (may be absent), *nullable* (may be `null`). A *custom check* is a rule the',
    'schema enforces in code (see the contract); ranges are inclusive `[ ]` or exclusive `( )`.',
    '',
    '| Log | Kafka topic | Event types |',
    '| --- | --- | --- |',
    ...perLog.map((l) => `| [${code(l.log)}](#${anchor(logHeading(l.log))}) | ${code(topicFor(l.log))} | ${new Set(l.events.map((e) => e.type)).size} |`),
  ];

  for (const l of perLog) {
    lines.push('', `## ${logHeading(l.log)}`, '');
    lines.push(
      `Kafka topic ${code(topicFor(l.log))}; ${l.kafkaPayload === 'envelope' ? 'a message is the event with its envelope.' : "a message is the event's data alone, without the envelope."}`,
      '',
      l.events.map((e) => `[${e.type} v${e.version}](#${anchor(eventHeading(e))})`).join(', '),
    );
    for (const e of l.events) lines.push('', ...renderEvent(e));
  }
  return lines.join('\n') + '\n';
}

function renderEvent(e: RegisteredContract): string[] {
  const [root, ...fields] = schemaFields(e.schema);
  const lines = [`### ${eventHeading(e)}`, ''];
  if (root.description) lines.push(oneLine(root.description), '');
  if (e.upcastTo !== undefined) lines.push(`Read as v${e.upcastTo} (upcast).`, '');
  const rows = root.type === 'object' ? fields : [{ ...root, path: '(data)' }, ...fields];
  if (root.type === 'object') lines.push(`Data: an object${root.constraints.length > 0 ? ` (${root.constraints.join('; ')})` : ''}.`, '');
  if (rows.length === 0) return [...lines, 'No fields.'];
  const described = rows.some((r) => r.description);
  lines.push(`| Field | Type | Presence | Constraints |${described ? ' Description |' : ''}`, `| --- | --- | --- | --- |${described ? ' --- |' : ''}`);
  for (const r of rows) lines.push(tableRow(r, described));
  return lines;
}

function tableRow(r: SchemaField, described: boolean): string {
  const cells = [r.path.startsWith('(') ? r.path : code(r.path), r.type, r.presence, r.constraints.join('; ')];
  if (described) cells.push(r.description ?? '');
  return `| ${cells.map(cell).join(' | ')} |`;
}

function logHeading(log: string): string {
  return `Log ${code(log)}`;
}

function eventHeading(e: RegisteredContract): string {
  return `${e.type} v${e.version}`;
}

/** The anchor GitHub gives a heading: lower case, spaces to hyphens, other punctuation dropped. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A table cell: one line, and a `|` that does not end the cell (GitHub honours `\|` in code spans too). */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

function main(): void {
  writeFileSync(EVENTS_FILE, renderEventCatalogue());
  console.log(`wrote ${EVENTS_FILE}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err: unknown) {
    console.error(`docs:events: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
