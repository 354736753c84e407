import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { withTransaction } from '@trellis/common';
import { DatasetManifest, DatasetManifestV1, DatasetVersionPublished } from '@trellis/contracts';
import type { ObjectStorage } from '@trellis/storage';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { ANNOTATION_STORAGE } from '../annotation.tokens';
import { parseVersionParam } from '../projects/project-rules';
import { createTasks, lockDatasetVersion } from '../tasks/task-creation';
import { AnnotationStreams, requireUuid } from '../tasks/task.streams';
import { itemsFromManifest, VersionItem } from './version-items';

export type ManifestCheck = { ok: true; manifest: DatasetManifest } | { ok: false; problem: string; transient?: false };

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
    return {
      ok: false,
      problem: `manifest does not match DatasetManifestV1: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    };
  }
  const m = parsed.data;
  if (m.datasetId !== published.datasetId || m.version !== published.version || m.merkleRoot !== published.merkleRoot) {
    return { ok: false, problem: 'manifest names another dataset, version or merkle root than the event' };
  }
  if (m.members.length !== published.memberCount)
    return { ok: false, problem: `manifest lists ${m.members.length} members, the event says ${published.memberCount}` };
  return { ok: true, manifest: m };
}

/**
 * Keeps a read model of published dataset versions and turns each into tasks for the projects
 * waiting for it. A manifest that is missing or does not verify is recorded as unreadable (with
 * the problem) rather than retried forever: it will not get better, and the consumer must move on.
 * A storage failure other than "not there" records it as pending (with the event), completed by a
 * redelivery or a steward's retry, so a storage outage cannot dead-letter the event.
 */
@Injectable()
export class RecordDatasetVersionUseCase {
  private readonly logger = new Logger('annotation');

  constructor(
    @Inject(ANNOTATION_STORAGE) private readonly storage: ObjectStorage,
    private readonly streams: AnnotationStreams,
    private readonly dataSource: DataSource,
  ) {}

  async record(tx: QueryRunner, published: DatasetVersionPublished['data'], causationId: string): Promise<void> {
    await lockDatasetVersion(tx, published.datasetId, published.version);
    const seen: { status: string }[] = await tx.query('SELECT status FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2', [
      published.datasetId,
      published.version,
    ]);
    if (seen.length && seen[0].status !== 'pending') return;
    await this.complete(tx, published, causationId);
  }

  /**
   * A steward's retry of a version left pending by a storage failure (a redelivered event retries
   * it too). 404 for a version never received, 409 for one that is not pending.
   */
  async retry(
    datasetIdParam: string,
    versionParam: string,
    causationId: string,
  ): Promise<{ datasetId: string; version: number; status: string; problem: string | null }> {
    const datasetId = requireUuid(datasetIdParam, 'dataset id', 'params.datasetId');
    const version = parseVersionParam(versionParam);
    return withTransaction(this.dataSource, async (tx) => {
      await lockDatasetVersion(tx, datasetId, version);
      const rows: { status: string; published: DatasetVersionPublished['data'] | null }[] = await tx.query(
        'SELECT status, published FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2',
        [datasetId, version],
      );
      if (!rows.length) throw new AnnotationException(AnnotationErrorCode.DatasetVersionNotFound, `dataset ${datasetId} v${version} has not been received`);
      if (rows[0].status !== 'pending' || !rows[0].published) {
        throw new AnnotationException(
          AnnotationErrorCode.DatasetVersionNotPending,
          `dataset ${datasetId} v${version} is ${rows[0].status}; only a pending version can be retried`,
        );
      }
      return this.complete(tx, rows[0].published, causationId);
    });
  }

  /** Reads the manifest and records the version as ready (creating waiting projects' tasks), unreadable or still pending. */
  private async complete(tx: QueryRunner, published: DatasetVersionPublished['data'], causationId: string) {
    const check = await this.readManifest(published);
    const status = check.ok ? 'ready' : check.transient ? 'pending' : 'unreadable';
    const problem = check.ok ? null : check.problem;
    const items = check.ok ? itemsFromManifest(check.manifest) : [];
    await tx.query(
      `INSERT INTO annotation_dataset_versions (dataset_id, version, name, merkle_root, manifest_key, manifest_sha256, status, problem, items, published)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
       ON CONFLICT (dataset_id, version) DO UPDATE SET status = EXCLUDED.status, problem = EXCLUDED.problem, items = EXCLUDED.items, published = EXCLUDED.published`,
      [
        published.datasetId,
        published.version,
        published.name,
        published.merkleRoot,
        published.manifest.key,
        published.manifest.sha256,
        status,
        problem,
        JSON.stringify(items),
        status === 'pending' ? JSON.stringify(published) : null,
      ],
    );
    const result = { datasetId: published.datasetId, version: published.version, status, problem };
    if (!check.ok) {
      this.logger.warn(
        `dataset ${published.datasetId} v${published.version}: ${check.problem}; no tasks created${check.transient ? ' yet (pending: POST /annotation/dataset-versions/:datasetId/:version/retry)' : ''}`,
      );
      return result;
    }
    const waiting: { project_id: string }[] = await tx.query(
      'SELECT project_id FROM annotation_projects WHERE dataset_id = $1 AND dataset_version = $2 AND NOT tasks_created ORDER BY created_at',
      [published.datasetId, published.version],
    );
    for (const p of waiting) await createTasks(tx, this.streams, p.project_id, items, causationId);
    return result;
  }

  private async readManifest(published: DatasetVersionPublished['data']): Promise<ManifestCheck | { ok: false; problem: string; transient: true }> {
    const { key } = published.manifest;
    let bytes: Buffer;
    try {
      bytes = await this.storage.getBuffer('artifacts', key);
    } catch (err) {
      if ((await this.storage.stat('artifacts', key).catch(() => undefined)) === null)
        return { ok: false, problem: `manifest ${key} is not in the artifacts area` };
      return { ok: false, problem: `manifest ${key} could not be read from storage: ${(err as Error).message}`, transient: true };
    }
    return checkManifest(bytes, published);
  }
}

/** The stored items of a ready dataset version, if it has been received. */
export async function readyVersionItems(tx: QueryRunner, datasetId: string, version: number): Promise<VersionItem[] | undefined> {
  const rows: { items: VersionItem[]; status: string }[] = await tx.query(
    'SELECT items, status FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2',
    [datasetId, version],
  );
  return rows.length && rows[0].status === 'ready' ? rows[0].items : undefined;
}
