import { DataSource, QueryRunner } from 'typeorm';
import type { Role } from '@trellis/contracts';

export interface ApiTokenRecord {
  tokenId: string;
  principalId: string;
  label: string;
  roles: Role[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface Row {
  token_id: string;
  principal_id: string;
  label: string;
  roles: Role[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const toRecord = (r: Row): ApiTokenRecord => ({
  tokenId: r.token_id,
  principalId: r.principal_id,
  label: r.label,
  roles: r.roles,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/** The erasable side table of tokens: hashes and labels, never the tokens themselves. */
export class ApiTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    tx: QueryRunner,
    t: { tokenId: string; tokenHash: string; principalId: string; label: string; roles: Role[]; expiresAt: Date | null },
  ): Promise<void> {
    await tx.query('INSERT INTO trellis_api_tokens (token_id, token_hash, principal_id, label, roles, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      t.tokenId,
      t.tokenHash,
      t.principalId,
      t.label,
      t.roles,
      t.expiresAt,
    ]);
  }

  async markRevoked(tx: QueryRunner, tokenId: string): Promise<void> {
    await tx.query('UPDATE trellis_api_tokens SET revoked_at = now() WHERE token_id = $1', [tokenId]);
  }

  /** The token a hash belongs to, if it is neither revoked nor expired. */
  async findUsable(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM trellis_api_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
      [tokenHash],
    );
    return rows.length ? toRecord(rows[0]) : undefined;
  }

  /** Every role any token of the principal was ever issued with, revoked and expired ones included. */
  async rolesEverIssued(principalId: string): Promise<Role[]> {
    const rows: { role: Role }[] = await this.dataSource.query('SELECT DISTINCT unnest(roles) AS role FROM trellis_api_tokens WHERE principal_id = $1', [
      principalId,
    ]);
    return rows.map((r) => r.role);
  }

  async list(): Promise<ApiTokenRecord[]> {
    const rows: Row[] = await this.dataSource.query('SELECT * FROM trellis_api_tokens ORDER BY created_at');
    return rows.map(toRecord);
  }
}
