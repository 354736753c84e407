import type { DataSource, QueryRunner } from 'typeorm';

export interface SubjectIdentity {
  externalRef: string | null;
  name: string | null;
  birthDate: string | null;
  mrn: string | null;
}

/**
 * `ingestion_subject_identities`, the one erasable table of personal details. Nothing else
 * (events, read models, logs, blob keys) holds these values; erasure deletes the row.
 */
export class SubjectIdentityRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(tx: QueryRunner, subjectId: string, identity: SubjectIdentity): Promise<void> {
    await tx.query('INSERT INTO ingestion_subject_identities (subject_id, external_ref, name, birth_date, mrn) VALUES ($1, $2, $3, $4, $5)', [
      subjectId,
      identity.externalRef,
      identity.name,
      identity.birthDate,
      identity.mrn,
    ]);
  }

  async subjectIdByExternalRef(externalRef: string): Promise<string | undefined> {
    const rows: { subject_id: string }[] = await this.dataSource.query('SELECT subject_id FROM ingestion_subject_identities WHERE external_ref = $1', [
      externalRef,
    ]);
    return rows[0]?.subject_id;
  }

  /** The subject registered under an external reference, with its identity (in `tx` when given). */
  async findByExternalRef(externalRef: string, tx?: QueryRunner): Promise<{ subjectId: string; identity: SubjectIdentity } | undefined> {
    const rows: { subject_id: string; external_ref: string | null; name: string | null; birth_date: string | null; mrn: string | null }[] = await (
      tx ?? this.dataSource
    ).query('SELECT subject_id, external_ref, name, birth_date, mrn FROM ingestion_subject_identities WHERE external_ref = $1', [externalRef]);
    const r = rows[0];
    return r ? { subjectId: r.subject_id, identity: { externalRef: r.external_ref, name: r.name, birthDate: r.birth_date, mrn: r.mrn } } : undefined;
  }

  async find(subjectId: string): Promise<SubjectIdentity | undefined> {
    const rows: { external_ref: string | null; name: string | null; birth_date: string | null; mrn: string | null }[] = await this.dataSource.query(
      'SELECT external_ref, name, birth_date, mrn FROM ingestion_subject_identities WHERE subject_id = $1',
      [subjectId],
    );
    return rows[0] ? { externalRef: rows[0].external_ref, name: rows[0].name, birthDate: rows[0].birth_date, mrn: rows[0].mrn } : undefined;
  }

  async delete(tx: QueryRunner, subjectId: string): Promise<number> {
    const result = await tx.query('DELETE FROM ingestion_subject_identities WHERE subject_id = $1', [subjectId]);
    return Array.isArray(result) ? Number(result[1] ?? 0) : 0;
  }
}
