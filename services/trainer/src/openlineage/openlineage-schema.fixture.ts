import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenLineageRunEvent } from './openlineage-event';

/** Test support: validation of run events against the official OpenLineage schemas in spec/. */
// The official schemas as fetched (see spec/README.md): the core 2-0-2 schema and the facets we emit.
const SPEC_DIR = join(__dirname, 'spec');
export const schemas = readdirSync(SPEC_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(SPEC_DIR, f), 'utf8')) as { $id: string; $defs: Record<string, unknown> });
const ajv = new Ajv2020({ allErrors: true });
addFormats(ajv);
// An annotation in the OpenLineage schemas; Ajv's strict mode refuses unknown keywords otherwise.
ajv.addKeyword('example');
schemas.forEach((s) => ajv.addSchema(s));
export const CORE_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const validateCore = ajv.getSchema(CORE_ID)!;

export function coreErrors(event: unknown): string[] {
  return validateCore(event) ? [] : (validateCore.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Each facet against the schema its own `_schemaURL` names; a facet whose schema we did not fetch fails. */
export function facetErrors(event: OpenLineageRunEvent): string[] {
  const groups: (readonly [string, Record<string, { _schemaURL: string }>])[] = [
    ['run', event.run.facets],
    ['job', event.job.facets],
    ...event.inputs.flatMap((d, i) => [[`inputs.${i}`, d.facets] as const, [`inputs.${i}.input`, d.inputFacets] as const]),
    ...event.outputs.flatMap((d, i) => [[`outputs.${i}`, d.facets] as const, [`outputs.${i}.output`, d.outputFacets] as const]),
  ];
  const errors: string[] = [];
  for (const [where, facets] of groups) {
    for (const [key, facet] of Object.entries(facets)) {
      const validate: ValidateFunction | undefined = ajv.getSchema(facet._schemaURL);
      if (!validate) errors.push(`${where}.${key}: no fetched schema for ${facet._schemaURL}`);
      else if (!validate(facet)) errors.push(...(validate.errors ?? []).map((e) => `${where}.${key}${e.instancePath} ${e.message}`));
    }
  }
  return errors;
}
