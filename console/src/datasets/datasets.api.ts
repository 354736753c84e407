// The REST shapes the dataset pages read (services/ingestion/src/datasets, services/annotation/src/projects).

/** GET /ingestion/datasets/:ref */
export interface DatasetView {
  datasetId: string;
  name: string;
  createdAt: string;
  latestVersion: number;
  memberCount: number;
  versions: DatasetVersionRow[];
}

export interface DatasetVersionRow {
  version: number;
  merkleRoot: string;
  memberCount: number;
  manifestKey: string;
  manifestSha256: string;
  publishedAt: string;
}

export interface DatasetMember {
  assetId: string;
  subjectId: string;
  kind: string;
  mimeType: string;
  sha256: string;
  curatedKey: string;
  curatedSha256: string;
  derivativeKey: string | null;
  describesAssetId: string | null;
}

/** GET /ingestion/datasets/:ref/versions/:version: the manifest, verified against its recorded hash. */
export interface DatasetManifest {
  datasetId: string;
  name: string;
  version: number;
  merkleRoot: string;
  members: DatasetMember[];
  manifestKey: string;
  downloadUrl: string;
}

/** GET /ingestion/datasets/:ref/diff?from&to */
export interface VersionDiff {
  from: number;
  to: number;
  added: string[];
  removed: string[];
  /** Same asset id, different content hash. */
  changed: string[];
  unchanged: number;
}

/** GET /annotation/dataset-versions: the versions ingestion published, as annotation received them. */
export interface ReceivedDatasetVersion {
  datasetId: string;
  version: number;
  name: string;
  status: string;
  problem: string | null;
  items: number;
}
