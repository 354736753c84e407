import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger, OnModuleInit } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { dataDirFromEnv, loadOrCreateSecret, withTransaction } from '@trellis/common';

export interface SubjectIdentity {
  externalRef: string | null;
  name: string | null;
  birthDate: string | null;
  mrn: string | null;
}

/**
 * The key that wraps every subject's data key: INGESTION_SUBJECT_KEY (64 hex characters), or one
 * generated once under the data directory. It never enters the database, so what PostgreSQL
 * holds (tables, dead tuples, WAL, backups) is ciphertext and wrapped keys only.
 */
export function subjectMasterKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.INGESTION_SUBJECT_KEY) {
    if (!/^[0-9a-f]{64}$/i.test(env.INGESTION_SUBJECT_KEY)) throw new Error('INGESTION_SUBJECT_KEY must be 64 hexadecimal characters (32 bytes)');
    return Buffer.from(env.INGESTION_SUBJECT_KEY, 'hex');
  }
  const dataDir = dataDirFromEnv(env);
  return loadOrCreateSecret(join(dataDir, 'keys', 'subject-master.key')).subarray(0, 32);
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM: iv | tag | ciphertext. The subject id is bound in as associated data, so a sealed row cannot be moved to another subject. */
function seal(key: Buffer, plaintext: Buffer, subjectId: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(subjectId));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, subjectId: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(subjectId));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

type SealedRow = { subject_id: string; sealed: Buffer; wrapped_key: Buffer };

/**
 * `ingestion_subject_identities`, the one table of personal details, erasable by construction
 * (crypto-shredding): each identity is sealed with a data key of its own, wrapped by the master
 * key and kept in `ingestion_subject_keys`. Erasure deletes the key and the row and rewrites both
 * tables, so no readable copy is left in PostgreSQL's files. An external reference is looked up
 * by its keyed hash. Nothing else (events, read models, logs, blob keys) holds these values.
 */
export class SubjectIdentityRepository implements OnModuleInit {
  private readonly indexKey: Buffer;
  private readonly logger = new Logger('Ingestion');

  constructor(
    private readonly dataSource: DataSource,
    private readonly masterKey: Buffer = subjectMasterKeyFromEnv(),
  ) {
    // A separate key for the lookup hash, so the hash says nothing about the wrapping key.
    this.indexKey = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'trellis external-ref index', 32));
  }

  async onModuleInit(): Promise<void> {
    await this.sealLegacyRows();
  }

  private refIndex(externalRef: string): string {
    return createHmac('sha256', this.indexKey).update(externalRef, 'utf8').digest('hex');
  }

  async insert(tx: QueryRunner, subjectId: string, identity: SubjectIdentity): Promise<void> {
    const dataKey = randomBytes(32);
    await tx.query('INSERT INTO ingestion_subject_keys (subject_id, wrapped_key) VALUES ($1, $2)', [subjectId, seal(this.masterKey, dataKey, subjectId)]);
    await tx.query('INSERT INTO ingestion_subject_identities (subject_id, external_ref_index, sealed) VALUES ($1, $2, $3)', [
      subjectId,
      identity.externalRef === null ? null : this.refIndex(identity.externalRef),
      seal(dataKey, Buffer.from(JSON.stringify(identity), 'utf8'), subjectId),
    ]);
  }

  async subjectIdByExternalRef(externalRef: string): Promise<string | undefined> {
    const rows: { subject_id: string }[] = await this.dataSource.query('SELECT subject_id FROM ingestion_subject_identities WHERE external_ref_index = $1', [
      this.refIndex(externalRef),
    ]);
    return rows[0]?.subject_id;
  }

  /** The subject registered under an external reference, with its identity (in `tx` when given). */
  async findByExternalRef(externalRef: string, tx?: QueryRunner): Promise<{ subjectId: string; identity: SubjectIdentity } | undefined> {
    const rows: SealedRow[] = await (tx ?? this.dataSource).query(
      `SELECT i.subject_id, i.sealed, k.wrapped_key FROM ingestion_subject_identities i
         JOIN ingestion_subject_keys k USING (subject_id) WHERE i.external_ref_index = $1`,
      [this.refIndex(externalRef)],
    );
    return rows[0] ? { subjectId: rows[0].subject_id, identity: this.unseal(rows[0]) } : undefined;
  }

  async find(subjectId: string): Promise<SubjectIdentity | undefined> {
    const rows: SealedRow[] = await this.dataSource.query(
      `SELECT i.subject_id, i.sealed, k.wrapped_key FROM ingestion_subject_identities i
         JOIN ingestion_subject_keys k USING (subject_id) WHERE i.subject_id = $1`,
      [subjectId],
    );
    return rows[0] ? this.unseal(rows[0]) : undefined;
  }

  /** Destroys the subject's data key and sealed identity; `purge` afterwards, outside the transaction. */
  async delete(tx: QueryRunner, subjectId: string): Promise<number> {
    await tx.query('DELETE FROM ingestion_subject_keys WHERE subject_id = $1', [subjectId]);
    const result = await tx.query('DELETE FROM ingestion_subject_identities WHERE subject_id = $1', [subjectId]);
    return Array.isArray(result) ? Number(result[1] ?? 0) : 0;
  }

  /**
   * After an erasure committed: rewrites both tables (VACUUM FULL writes new files and removes
   * the old ones, dead tuples included) and asks for a checkpoint, so the destroyed key survives
   * in no table file. A refusal (no privilege on an external server) is logged, not thrown: the
   * key is gone from every live row, and the identity was only ever stored sealed.
   */
  async purge(): Promise<void> {
    try {
      await this.dataSource.query('VACUUM FULL ingestion_subject_keys');
      await this.dataSource.query('VACUUM FULL ingestion_subject_identities');
      await this.dataSource.query('CHECKPOINT');
    } catch (err) {
      this.logger.warn(`after an erasure, rewriting the identity tables failed (${(err as { code?: string }).code ?? 'error'}); sealed copies stay unreadable`);
    }
  }

  private unseal(row: SealedRow): SubjectIdentity {
    const dataKey = open(this.masterKey, row.wrapped_key, row.subject_id);
    return JSON.parse(open(dataKey, row.sealed, row.subject_id).toString('utf8')) as SubjectIdentity;
  }

  /** Rows written before identities were sealed: sealed now, their plain columns emptied, then purged. */
  async sealLegacyRows(): Promise<number> {
    const rows: { subject_id: string; external_ref: string | null; name: string | null; birth_date: string | null; mrn: string | null }[] =
      await this.dataSource.query('SELECT subject_id, external_ref, name, birth_date, mrn FROM ingestion_subject_identities WHERE sealed IS NULL');
    for (const r of rows) {
      const identity: SubjectIdentity = { externalRef: r.external_ref, name: r.name, birthDate: r.birth_date, mrn: r.mrn };
      await withTransaction(this.dataSource, async (tx) => {
        await tx.query('DELETE FROM ingestion_subject_identities WHERE subject_id = $1', [r.subject_id]);
        await this.insert(tx, r.subject_id, identity);
      });
    }
    if (rows.length > 0) await this.purge();
    return rows.length;
  }
}
