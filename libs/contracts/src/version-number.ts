/** Version numbers (of datasets, annotation sets, streams' aggregates) are PostgreSQL integers. */
export const MAX_VERSION = 2_147_483_647;

/**
 * The one reading of a version number given as text (a path or query parameter): decimal
 * digits only — not `1e3`, `0x10`, `1.0` or ` 7` — from 1 to MAX_VERSION. Undefined for
 * anything else, so that each service answers with its own typed error naming the field.
 */
export function parseVersionNumber(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= MAX_VERSION ? n : undefined;
}
