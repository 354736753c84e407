/** The roles a principal can hold. `service` is for events a service emits on its own behalf. */
export const ROLES = ['steward', 'annotator', 'reviewer', 'engineer', 'approver', 'auditor', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles a person or a token can be granted; `service` is reserved for the platform itself. */
export const GRANTABLE_ROLES = ['steward', 'annotator', 'reviewer', 'engineer', 'approver', 'auditor', 'admin'] as const;
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];
