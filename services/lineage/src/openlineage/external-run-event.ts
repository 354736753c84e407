import { z } from 'zod';
import { isPlainText } from '@trellis/contracts';

/** Longest namespace or name kept (OpenLineage sets no limit; a URI or a table path fits). */
export const MAX_NAME_LENGTH = 1000;
/** Most inputs and most outputs one event may list. */
export const MAX_DATASETS = 100;
export const OPENLINEAGE_EVENT_TYPES = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] as const;

const Name = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `at most ${MAX_NAME_LENGTH} characters`)
  .refine(isPlainText, 'not valid Unicode or contains a control character');
const Dataset = z.object({ namespace: Name, name: Name }).passthrough();

/**
 * The frame of an OpenLineage 2-0 RunEvent that the lineage reads (the rest, facets included, is
 * kept as received): required as the specification requires them (eventTime, producer, schemaURL,
 * run, job), eventType optional (OTHER when absent), at most 100 inputs and 100 outputs.
 */
export const ExternalRunEvent = z
  .object({
    eventType: z.enum(OPENLINEAGE_EVENT_TYPES, { errorMap: () => ({ message: `must be one of ${OPENLINEAGE_EVENT_TYPES.join(', ')}` }) }).optional(),
    eventTime: z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone' }),
    producer: z.string().url('must be a URI').max(MAX_NAME_LENGTH),
    schemaURL: z.string().url('must be a URI').max(MAX_NAME_LENGTH),
    run: z.object({ runId: z.string().uuid('must be a UUID') }).passthrough(),
    job: z.object({ namespace: Name, name: Name }).passthrough(),
    inputs: z.array(Dataset).max(MAX_DATASETS, `at most ${MAX_DATASETS} datasets`).optional(),
    outputs: z.array(Dataset).max(MAX_DATASETS, `at most ${MAX_DATASETS} datasets`).optional(),
  })
  .passthrough();

export type ExternalRunEvent = z.infer<typeof ExternalRunEvent>;

export type ParsedRunEvent = { ok: true; event: ExternalRunEvent } | { ok: false; message: string; fields: string[] };

/**
 * Checks a body sent to the OpenLineage endpoint. Messages name the field and the rule, never the
 * value. A DatasetEvent or JobEvent (no `run`) is refused by name: only run events are imported.
 */
export function parseExternalRunEvent(body: unknown): ParsedRunEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, message: 'the body must be an OpenLineage RunEvent (a JSON object)', fields: ['body'] };
  if (!('run' in body) && ('dataset' in body || 'job' in body))
    return { ok: false, message: 'only OpenLineage RunEvents are imported (this looks like a DatasetEvent or JobEvent)', fields: ['body.run'] };
  const parsed = ExternalRunEvent.safeParse(body);
  if (parsed.success) return { ok: true, event: parsed.data };
  const issues = parsed.error.issues.slice(0, 10);
  const path = (i: z.ZodIssue) => ['body', ...i.path].join('.');
  return {
    ok: false,
    message: issues.map((i) => `${path(i)}: ${i.code === 'invalid_type' && i.received === 'undefined' ? 'is required' : i.message}`).join('; '),
    fields: [...new Set(issues.map(path))],
  };
}
