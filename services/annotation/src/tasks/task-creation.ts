import type { QueryRunner } from 'typeorm';
import { v5 as uuidv5 } from 'uuid';
import { ANNOTATION_SERVICE_ACTOR } from '../annotation.actors';
import type { VersionItem } from '../dataset-versions/version-items';
import { decideTask, initialTaskState } from './task.decider';
import { AnnotationStreams, taskStream } from './task.streams';

/** Task ids derive from project and item, so creating a project's tasks twice cannot duplicate them. */
const TASK_NAMESPACE = '5b0f6f3e-6a43-4c55-9d2a-6f1f3f0b7a11';
export const taskIdOf = (projectId: string, itemId: string) => uuidv5(`${projectId}/${itemId}`, TASK_NAMESPACE);

/**
 * Creates one task per item of the project's dataset version, except for subjects already
 * excluded (consent withdrawn or erased before the tasks existed). Callers hold the
 * dataset-version lock (see lockDatasetVersion), so the consumer and project creation never
 * both create the tasks.
 */
export async function createTasks(tx: QueryRunner, streams: AnnotationStreams, projectId: string, items: VersionItem[], causationId?: string): Promise<number> {
  await lockExclusions(tx);
  const done: { tasks_created: boolean }[] = await tx.query('SELECT tasks_created FROM annotation_projects WHERE project_id = $1 FOR UPDATE', [projectId]);
  if (!done.length || done[0].tasks_created) return 0;
  const excluded = new Set(
    (
      (await tx.query('SELECT DISTINCT subject_id FROM annotation_excluded_subjects WHERE subject_id = ANY($1::uuid[])', [items.map((i) => i.subjectId)])) as {
        subject_id: string;
      }[]
    ).map((r) => r.subject_id),
  );
  let created = 0;
  for (const item of items) {
    if (excluded.has(item.subjectId)) continue;
    const taskId = taskIdOf(projectId, item.itemId);
    const events = decideTask(initialTaskState, { type: 'CreateTask', taskId, projectId, ...item });
    await streams.start(tx, taskStream(taskId), events, ANNOTATION_SERVICE_ACTOR, causationId);
    created += 1;
  }
  await tx.query('UPDATE annotation_projects SET tasks_created = true WHERE project_id = $1', [projectId]);
  return created;
}

/** Serializes everything that creates tasks for one dataset version (the consumer and project creation). */
export async function lockDatasetVersion(tx: QueryRunner, datasetId: string, version: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`annotation-dataset-version:${datasetId}:${version}`]);
}

/**
 * Serializes what reads or changes the excluded subjects against each other: excluding a subject
 * (and cancelling its tasks), creating tasks (which skips excluded subjects) and publishing a set
 * (which leaves them out). Taken after lockDatasetVersion where both are needed, never before.
 */
export async function lockExclusions(tx: QueryRunner): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('annotation-exclusions'))`);
}
