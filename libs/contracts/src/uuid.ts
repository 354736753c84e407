/** A UUID in its hyphenated form, either case (ids from outside arrive in both). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Envelopes and hashes carry UUIDs lowercase only (DESIGN.md). */
export const LOWERCASE_UUID_PATTERN = new RegExp(UUID_PATTERN.source);

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);
