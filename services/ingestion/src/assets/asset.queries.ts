import { DataSource } from 'typeorm';
import { isUuid } from '@trellis/contracts';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

export interface AssetView {
  assetId: string;
  subjectId: string;
  kind: string;
  mimeType: string;
  sha256: string;
  size: number;
  width: number | null;
  height: number | null;
  status: 'ingested' | 'erased';
  storage: {
    raw: string | null;
    curated: string | null;
    curatedSha256: string;
    derivative: string | null;
    derivativeSha256: string | null;
    deidentified: string | null;
  };
  describesAssetId: string | null;
  deidentification: unknown;
  ingestedAt: string;
  erasedAt: string | null;
}

// A row of ingestion_assets as pg returns it (snake_case columns; bigint size as text).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one mapping from an untyped driver row
const toView = (r: any): AssetView => ({
  assetId: r.asset_id,
  subjectId: r.subject_id,
  kind: r.kind,
  mimeType: r.mime_type,
  sha256: r.sha256,
  size: Number(r.size),
  width: r.width,
  height: r.height,
  status: r.status,
  storage: {
    raw: r.raw_key,
    curated: r.curated_key,
    curatedSha256: r.curated_sha256,
    derivative: r.derivative_key,
    derivativeSha256: r.derivative_sha256,
    deidentified: r.deidentified_key,
  },
  describesAssetId: r.describes_asset_id,
  deidentification: r.deidentification,
  ingestedAt: r.ingested_at.toISOString(),
  erasedAt: r.erased_at ? r.erased_at.toISOString() : null,
});

/** Reads of the asset catalog (read model). */
export class AssetQueries {
  constructor(private readonly dataSource: DataSource) {}

  async get(assetId: string): Promise<AssetView> {
    if (!isUuid(assetId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'asset id must be a UUID', ['assetId']);
    const rows = await this.dataSource.query('SELECT * FROM ingestion_assets WHERE asset_id = $1', [assetId]);
    if (rows.length === 0) throw new IngestionException(IngestionErrorCode.AssetNotFound, `no ingested asset ${assetId}`);
    return toView(rows[0]);
  }

  /** Assets of a subject, optionally only the one with given content (how the CLI resumes without re-uploading). */
  async find(subjectId: string, sha256?: string): Promise<AssetView[]> {
    if (!isUuid(subjectId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'subjectId must be a UUID', ['subjectId']);
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256))
      throw new IngestionException(IngestionErrorCode.InvalidRequest, 'sha256 must be a lowercase hex SHA-256', ['sha256']);
    const rows = sha256
      ? await this.dataSource.query('SELECT * FROM ingestion_assets WHERE subject_id = $1 AND sha256 = $2 ORDER BY ingested_at', [subjectId, sha256])
      : await this.dataSource.query('SELECT * FROM ingestion_assets WHERE subject_id = $1 ORDER BY ingested_at, asset_id', [subjectId]);
    return rows.map(toView);
  }
}
