import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { Actor } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { readyVersionItems } from '../dataset-versions/record-dataset-version.usecase';
import { createTasks, lockDatasetVersion, lockExclusions } from '../tasks/task-creation';
import { AnnotationStreams, projectDecider, projectStream, requireUuid, retryOnConflict } from '../tasks/task.streams';
import { decideProject, initialProjectState, KnownDatasetVersion } from './project.decider';
import { listProjects, ProjectRecord, requireProject, taskCounts } from './project.queries';

export interface ProjectSummary extends ProjectRecord {
  tasks: Record<string, number>;
  /** False until the dataset version has been received (its tasks are created then). */
  datasetVersionReceived: boolean;
}

@Injectable()
export class ProjectUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: AnnotationStreams,
  ) {}

  /**
   * Creates a project. If its dataset version was published already, its tasks are created in
   * the same transaction, from the stored version; otherwise when the version arrives.
   */
  async create(request: unknown, actor: Actor): Promise<ProjectSummary> {
    const projectId = uuidv7();
    // Received versions are never deleted, so what is known here is still known at the append.
    const events = decideProject(initialProjectState, { type: 'CreateProject', projectId, request, knownVersions: await this.knownVersions(request) });
    const created = events[0];
    if (created.type !== 'AnnotationProjectCreated') throw new Error('unexpected decision');
    await withTransaction(this.dataSource, async (tx) => {
      await lockDatasetVersion(tx, created.data.datasetId, created.data.datasetVersion);
      // Before appending: an exclusion holds this lock while it appends to the annotation log, so
      // taking it after our own append (in createTasks) could deadlock with it.
      await lockExclusions(tx);
      const [appended] = await this.streams.start(tx, projectStream(projectId), events, actor);
      const items = await readyVersionItems(tx, created.data.datasetId, created.data.datasetVersion);
      if (items) await createTasks(tx, this.streams, projectId, items, appended.eventId);
    });
    return this.get(projectId);
  }

  async get(projectId: string): Promise<ProjectSummary> {
    const project = await requireProject(this.dataSource, requireUuid(projectId, 'project id', 'params.projectId'));
    const received: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM annotation_dataset_versions WHERE dataset_id = $1 AND version = $2 AND status = 'ready'`,
      [project.datasetId, project.datasetVersion],
    );
    return { ...project, tasks: await taskCounts(this.dataSource, project.projectId), datasetVersionReceived: received.length > 0 };
  }

  /** The received versions whose dataset id or name is what the request's datasetId says. */
  private async knownVersions(request: unknown): Promise<KnownDatasetVersion[]> {
    const ref = typeof request === 'object' && request !== null ? (request as { datasetId?: unknown }).datasetId : undefined;
    if (typeof ref !== 'string') return [];
    const rows: { dataset_id: string; name: string; version: number; status: KnownDatasetVersion['status'] }[] = await this.dataSource.query(
      `SELECT dataset_id, name, version, status FROM annotation_dataset_versions
        WHERE dataset_id IN (SELECT dataset_id FROM annotation_dataset_versions WHERE dataset_id::text = lower($1) OR name = $1)`,
      [ref.trim()],
    );
    return rows.map((r) => ({ datasetId: r.dataset_id, name: r.name, version: r.version, status: r.status }));
  }

  /** A steward retires a project (projects are never deleted: their events are history). */
  async archive(projectIdParam: string, actor: Actor): Promise<ProjectSummary> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    await retryOnConflict(() =>
      withTransaction(this.dataSource, (tx) => this.streams.handle(tx, projectStream(projectId), projectDecider, { type: 'ArchiveProject', projectId }, actor)),
    );
    return this.get(projectId);
  }

  list(): Promise<ProjectRecord[]> {
    return listProjects(this.dataSource);
  }

  /** The dataset versions the service has received, for stewards choosing what to annotate. */
  async datasetVersions(): Promise<{ datasetId: string; version: number; name: string; status: string; problem: string | null; items: number }[]> {
    const rows: { dataset_id: string; version: number; name: string; status: string; problem: string | null; items: number }[] = await this.dataSource.query(
      'SELECT dataset_id, version, name, status, problem, jsonb_array_length(items)::int AS items FROM annotation_dataset_versions ORDER BY received_at',
    );
    return rows.map((r) => ({ datasetId: r.dataset_id, version: r.version, name: r.name, status: r.status, problem: r.problem, items: r.items }));
  }
}
