import type { DataSource, QueryRunner } from 'typeorm';
import type { TaskType } from '@trellis/contracts';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { ProjectRules } from './project-rules';

export interface ProjectRecord {
  projectId: string;
  name: string;
  datasetId: string;
  datasetVersion: number;
  guidelines: string;
  rules: ProjectRules;
  tasksCreated: boolean;
  /** Archived projects hand out no tasks. */
  status: 'active' | 'archived';
  archivedAt: string | null;
  createdBy: string;
  createdAt: string;
}

interface Row {
  project_id: string;
  name: string;
  dataset_id: string;
  dataset_version: number;
  task_type: TaskType;
  labels: string[];
  guidelines: string;
  annotations_per_item: number;
  agreement_threshold: number;
  max_text_length: number;
  tasks_created: boolean;
  reassign_rejected_to_same_annotator: boolean;
  archived_at: Date | null;
  created_by: string;
  created_at: Date;
}

const toRecord = (r: Row): ProjectRecord => ({
  projectId: r.project_id,
  name: r.name,
  datasetId: r.dataset_id,
  datasetVersion: r.dataset_version,
  guidelines: r.guidelines,
  rules: {
    taskType: r.task_type,
    labels: r.labels,
    annotationsPerItem: r.annotations_per_item,
    agreementThreshold: r.agreement_threshold,
    maxTextLength: r.max_text_length,
    reassignRejectedToSameAnnotator: r.reassign_rejected_to_same_annotator,
  },
  tasksCreated: r.tasks_created,
  status: r.archived_at ? 'archived' : 'active',
  archivedAt: r.archived_at?.toISOString() ?? null,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
});

export async function findProject(db: DataSource | QueryRunner, projectId: string): Promise<ProjectRecord | undefined> {
  const rows: Row[] = await db.query('SELECT * FROM annotation_projects WHERE project_id = $1', [projectId]);
  return rows.length ? toRecord(rows[0]) : undefined;
}

export async function requireProject(db: DataSource | QueryRunner, projectId: string): Promise<ProjectRecord> {
  const p = await findProject(db, projectId);
  if (!p) throw new AnnotationException(AnnotationErrorCode.ProjectNotFound, `no annotation project ${projectId}`);
  return p;
}

export async function listProjects(db: DataSource): Promise<ProjectRecord[]> {
  const rows: Row[] = await db.query('SELECT * FROM annotation_projects ORDER BY created_at');
  return rows.map(toRecord);
}

export async function taskCounts(db: DataSource, projectId: string): Promise<Record<string, number>> {
  const rows: { status: string; n: number }[] = await db.query(
    'SELECT status, count(*)::int AS n FROM annotation_tasks WHERE project_id = $1 GROUP BY status',
    [projectId],
  );
  const counts: Record<string, number> = { open: 0, adjudication: 0, final: 0, cancelled: 0 };
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}
