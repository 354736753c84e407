import type { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { Actor } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { readyVersionItems } from '../dataset-versions/record-dataset-version.usecase';
import { createTasks, lockDatasetVersion, lockExclusions } from '../tasks/task-creation';
import { AnnotationStreams, projectStream, requireUuid } from '../tasks/task.streams';
import { decideProject, initialProjectState } from './project.decider';
import { listProjects, ProjectRecord, requireProject, taskCounts } from './project.queries';

export interface ProjectSummary extends ProjectRecord {
  tasks: Record<string, number>;
  /** False until the dataset version has been received (its tasks are created then). */
  datasetVersionReceived: boolean;
}

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
    const events = decideProject(initialProjectState, { type: 'CreateProject', projectId, request });
    const created = events[0];
    if (created.type !== 'AnnotationProjectCreated') throw new Error('unexpected decision');
    await withTransaction(this.dataSource, async (tx) => {
      await lockDatasetVersion(tx, created.data.datasetId, created.data.datasetVersion);
      // Before appending: an exclusion holds this lock while it appends to the annotation log, so
      // taking it after our own append (in createTasks) could deadlock with it.
      await lockExclusions(tx);
      const [appended] = await this.streams.append(tx, projectStream(projectId), events, actor, 'no_stream');
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
