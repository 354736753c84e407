import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { PRINCIPAL_ID_PATTERN } from '@trellis/contracts';
import { AuthErrorCode, AuthException } from '../auth.exception';

/** Pseudonymous principal ids, as tokens and JWT subjects carry them: one pattern for every source. */
export const PRINCIPAL_ID = PRINCIPAL_ID_PATTERN;

export const MAX_DISPLAY_NAME = 200;

/**
 * A display name: trimmed, 1 to 200 characters, no control characters (a name that moves a
 * terminal cursor or splits a log line is not a name). Errors name the field, never the value.
 */
export function parseDisplayName(value: unknown, field = 'body.displayName'): string {
  if (typeof value !== 'string') throw new AuthException(AuthErrorCode.InvalidRequest, `${field} must be a string`, [field]);
  const name = value.trim();
  if (name.length === 0) throw new AuthException(AuthErrorCode.InvalidRequest, `${field} must not be empty`, [field]);
  if ([...name].length > MAX_DISPLAY_NAME)
    throw new AuthException(AuthErrorCode.InvalidRequest, `${field} must be at most ${MAX_DISPLAY_NAME} characters`, [field]);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name))
    throw new AuthException(AuthErrorCode.InvalidRequest, `${field} must not contain control characters`, [field]);
  return name;
}

export function requirePrincipalId(value: string, field = 'params.principalId'): string {
  if (!PRINCIPAL_ID.test(value))
    throw new AuthException(AuthErrorCode.InvalidRequest, `${field} must be a principal id (letters, digits and . _ : | - only, at most 100)`, [field]);
  return value;
}

/** Someone as the API shows them to those allowed to see who they are. */
export interface PrincipalRef {
  id: string;
  displayName: string | null;
}

/**
 * The erasable table of what is personal about a principal: its display name. Events and read
 * models carry only the pseudonymous id, so erasing a principal deletes its row and nothing else.
 */
@Injectable()
export class PrincipalDirectory {
  constructor(private readonly dataSource: DataSource) {}

  setDisplayName(principalId: string, displayName: string): Promise<void> {
    return writeDisplayName(this.dataSource, principalId, displayName);
  }

  /** True when there was a row to delete. */
  async erase(principalId: string): Promise<boolean> {
    const [, affected] = (await this.dataSource.query('DELETE FROM trellis_principals WHERE principal_id = $1', [principalId])) as [unknown, number];
    return affected > 0;
  }

  async displayName(principalId: string): Promise<string | null> {
    return (await principalRefs(this.dataSource, [principalId])).get(principalId)?.displayName ?? null;
  }
}

export async function writeDisplayName(db: DataSource | QueryRunner, principalId: string, displayName: string): Promise<void> {
  await db.query(
    `INSERT INTO trellis_principals (principal_id, display_name) VALUES ($1, $2)
     ON CONFLICT (principal_id) DO UPDATE SET display_name = EXCLUDED.display_name, updated_at = now()`,
    [principalId, displayName],
  );
}

/** The display names of some principals (null where none is set or it was erased). */
export async function principalRefs(db: DataSource | QueryRunner, ids: Iterable<string>): Promise<Map<string, PrincipalRef>> {
  const unique = [...new Set(ids)];
  const refs = new Map<string, PrincipalRef>(unique.map((id) => [id, { id, displayName: null }]));
  if (unique.length === 0) return refs;
  const rows: { principal_id: string; display_name: string }[] = await db.query(
    'SELECT principal_id, display_name FROM trellis_principals WHERE principal_id = ANY($1::text[])',
    [unique],
  );
  for (const r of rows) refs.set(r.principal_id, { id: r.principal_id, displayName: r.display_name });
  return refs;
}
