import type { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import type { StorageArea } from '@trellis/storage';
import { lockSubject } from '../subjects/subject.store';

export interface IntentBlob {
  area: StorageArea;
  key: string;
}

export interface UploadIntent {
  assetId: string;
  subjectId: string;
  blobs: IntentBlob[];
  createdAt: Date;
}

/**
 * `ingestion_upload_intents`: an upload announces the blobs it is about to write (committed
 * before the first byte goes out) and the transaction that appends its event deletes the row.
 * A row that outlives the grace period belongs to an upload that died in between.
 */
export class UploadIntentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Under the subject lock: a clean-up that checks a shared content-addressed key and then
   * deletes it holds that lock, so this intent is either seen by its check or announced after
   * the delete (and its write then puts the blob back).
   */
  async announce(assetId: string, subjectId: string, blobs: IntentBlob[]): Promise<void> {
    await withTransaction(this.dataSource, async (tx) => {
      await lockSubject(tx, subjectId);
      await tx.query('INSERT INTO ingestion_upload_intents (asset_id, subject_id, blobs) VALUES ($1, $2, $3)', [assetId, subjectId, JSON.stringify(blobs)]);
    });
  }

  /** Inside the completing transaction; false when recovery already took the intent (and its blobs). */
  async complete(tx: QueryRunner, assetId: string): Promise<boolean> {
    const result = await tx.query('DELETE FROM ingestion_upload_intents WHERE asset_id = $1', [assetId]);
    return Number(result?.[1] ?? 0) === 1;
  }

  async olderThan(tx: QueryRunner | DataSource, cutoff: Date): Promise<UploadIntent[]> {
    const rows: { asset_id: string; subject_id: string; blobs: IntentBlob[]; created_at: Date }[] = await tx.query(
      // The cutoff is a JS Date (milliseconds); created_at has microseconds: compared at the
      // cutoff's precision, an intent of the same millisecond is not "younger" than it.
      `SELECT asset_id, subject_id, blobs, created_at FROM ingestion_upload_intents WHERE date_trunc('milliseconds', created_at) <= $1 ORDER BY created_at`,
      [cutoff],
    );
    return rows.map((r) => ({ assetId: r.asset_id, subjectId: r.subject_id, blobs: r.blobs, createdAt: r.created_at }));
  }

  /** Locks one intent for resolution; undefined if another process holds or already resolved it. */
  async lock(tx: QueryRunner, assetId: string): Promise<boolean> {
    const rows = await tx.query('SELECT asset_id FROM ingestion_upload_intents WHERE asset_id = $1 FOR UPDATE SKIP LOCKED', [assetId]);
    return rows.length === 1;
  }

  async delete(tx: QueryRunner, assetId: string): Promise<void> {
    await this.complete(tx, assetId);
  }
}

/**
 * Whether an ingested asset, or another upload in flight, refers to a blob (content addressing
 * makes identical curated forms share a key): such a blob is never deleted by clean-up.
 */
export async function blobReferenced(q: QueryRunner | DataSource, blob: IntentBlob, exceptAssetId: string): Promise<boolean> {
  const rows = await q.query(
    `SELECT 1 FROM ingestion_assets WHERE status = 'ingested' AND $1 IN (raw_key, curated_key, derivative_key, deidentified_key)
     UNION ALL
     SELECT 1 FROM ingestion_upload_intents WHERE asset_id <> $2 AND blobs @> jsonb_build_array(jsonb_build_object('area', $3::text, 'key', $1::text))
     LIMIT 1`,
    [blob.key, exceptAssetId, blob.area],
  );
  return rows.length > 0;
}
