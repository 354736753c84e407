/** How many items a REST list gives when no `limit` is asked for, and the most it gives at once. */
export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;

/**
 * The one reading of a list's `limit` query parameter: the default when it is absent, else an
 * integer from 1 to PAGE_LIMIT_MAX. Undefined for anything else, so that each service answers
 * with its own typed error naming the field.
 */
export function parsePageLimit(raw: unknown): number | undefined {
  if (raw === undefined) return PAGE_LIMIT_DEFAULT;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= PAGE_LIMIT_MAX ? n : undefined;
}
