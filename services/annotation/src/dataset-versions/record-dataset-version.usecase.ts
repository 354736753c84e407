import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { DatasetManifest, DatasetManifestV1, DatasetVersionPublished } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { createTasks, lockDatasetVersion } from '../tasks/task-creation';
import type { AnnotationStreams } from '../tasks/task.streams';
import { itemsFromManifest, VersionItem } from './version-items';

export type ManifestCheck = { ok: true; manifest: DatasetManifest } | { ok: false; problem: string };

/** Checks manifest bytes against the event that announced them: hash, schema, identity, size. */
export function checkManifest(bytes: Buffer, published: DatasetVersionPublished['data']): ManifestCheck {
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== published.manifest.sha256) return { ok: false, problem: `manifest sha256 is ${sha}, the event says ${published.manifest.sha256}` };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, problem: `manifest is not JSON: ${(err as Error).message}` };
  }
  const parsed = DatasetManifestV1.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problem: `manifest does not match DatasetManifestV1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  }
  const m = parsed.data;
  if (m.datasetId !== published.datasetId || m.version !== published.version || m.merkleRoot !== published.merkleRoot) {
    return { ok: false, problem: 'manifest names another dataset, version or merkle root than the event' };
  }
  if (m.members.length !== published.memberCount) return { ok: false, problem: `manifest lists ${m.members.length} members, the event says ${published.memberCount}` };
  return { ok: true, manifest: m };
}

/**
 * Keeps a read model of published dataset versions and turns each into tasks for the projects
 * waiting for it. A manifest that is missing or does not verify is recorded as unreadable (with
 * the problem) rather than retried forever: it will not get better, and the consumer must move on.
 * A storage failure other than "not there" throws, so the inbox retries it.
 */
export class RecordDatasetVersionUseCase {
  private readonly logger = new Logger('annotation');

  constructor(
    private readonly storage: ObjectStorage,
    private readonly streams: AnnotationStreams,
  ) {}

  async record(tx: QueryRunner, published: DatasetVersionPublished['data'], causationId: string): Promise<void> {
    await lockDatasetVersion(tx, published.datasetId, published.version);
    const seen: unknown[] = await tx.query('SELECT 1 FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2', [published.datasetId, published.version]);
    if (seen.length) return;
    const check = await this.readManifest(published);
    const items = check.ok ? itemsFromManifest(check.manifest) : [];
    await tx.query(
      `INSERT INTO annotation_dataset_versions (dataset_id, version, name, merkle_root, manifest_key, manifest_sha256, status, problem, items)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
      [published.datasetId, published.version, published.name, published.merkleRoot, published.manifest.key, published.manifest.sha256, check.ok ? 'ready' : 'unreadable', check.ok ? null : check.problem, JSON.stringify(items)],
    );
    if (!check.ok) {
      this.logger.warn(`dataset ${published.datasetId} v${published.version}: ${check.problem}; no tasks created`);
      return;
    }
    const waiting: { project_id: string }[] = await tx.query(
      'SELECT project_id FROM annotation_projects WHERE dataset_id = $1 AND dataset_version = $2 AND NOT tasks_created ORDER BY created_at',
      [published.datasetId, published.version],
    );
    for (const p of waiting) await createTasks(tx, this.streams, p.project_id, items, causationId);
  }

  private async readManifest(published: DatasetVersionPublished['data']): Promise<ManifestCheck> {
    const { key } = published.manifest;
    let bytes: Buffer;
    try {
      bytes = await this.storage.getBuffer('artifacts', key);
    } catch (err) {
      if ((await this.storage.stat('artifacts', key).catch(() => undefined)) === null) return { ok: false, problem: `manifest ${key} is not in the artifacts area` };
      throw err;
    }
    return checkManifest(bytes, published);
  }
}

/** The stored items of a ready dataset version, if it has been received. */
export async function readyVersionItems(tx: QueryRunner, datasetId: string, version: number): Promise<VersionItem[] | undefined> {
  const rows: { items: VersionItem[]; status: string }[] = await tx.query('SELECT items, status FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2', [datasetId, version]);
  return rows.length && rows[0].status === 'ready' ? rows[0].items : undefined;
}
