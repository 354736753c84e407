import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, curatedImageMediaType, EXCHANGE_FORMATS, ExchangeFormat, LeaveOutReason } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import type { ObjectStorage } from '@trellis/storage';
import { agreementStatistics, AgreementStatistics } from '../agreement/agreement-statistics';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { ANNOTATION_STORAGE } from '../annotation.tokens';
import { exportSet } from '../exchange/exchange-formats';
import { ustarEnd, ustarEntry } from '../exchange/ustar';
import { decideProject } from '../projects/project.decider';
import { requireProject } from '../projects/project.queries';
import { parseVersionParam as parseVersion } from '../projects/project-rules';
import { lockExclusions } from '../tasks/task-creation';
import { AnnotationStreams, projectDecider, projectStream, requireUuid, retryOnConflict } from '../tasks/task.streams';
import { AnnotationSetContent, buildAnnotationSet, TaskForSet } from './annotation-set';

export interface AnnotationSetRecord {
  setId: string;
  projectId: string;
  version: number;
  contentSha256: string;
  artifactKey: string;
  itemCount: number;
  leftOutCount: number;
  leftOut: { reason: LeaveOutReason; count: number }[];
  pendingCount: number;
  publishedBy: string;
  publishedAt: string;
}

/** Every task of a project with its assignments, as the set builder and the agreement report need them. */
export async function tasksForSet(db: DataSource | QueryRunner, projectId: string): Promise<TaskForSet[]> {
  const rows: {
    task_id: string;
    item_id: string;
    subject_id: string;
    image_key: string;
    status: TaskForSet['status'];
    final_answer: TaskForSet['finalAnswer'];
    final_source: TaskForSet['finalSource'];
    agreement: number | null;
    adjudicator_id: string | null;
    assignments: TaskForSet['assignments'];
  }[] = await db.query(
    `SELECT t.task_id, t.item_id, t.subject_id, t.image_key, t.status, t.final_answer, t.final_source, t.agreement, t.adjudicator_id,
            COALESCE(jsonb_agg(jsonb_build_object('annotatorId', a.annotator_id, 'status', a.status, 'answer', a.answer, 'reviewerId', a.reviewer_id)
                     ORDER BY a.assigned_at) FILTER (WHERE a.assignment_id IS NOT NULL), '[]') AS assignments
       FROM annotation_tasks t LEFT JOIN annotation_assignments a ON a.task_id = t.task_id
      WHERE t.project_id = $1 GROUP BY t.task_id ORDER BY t.seq`,
    [projectId],
  );
  return rows.map((r) => ({
    taskId: r.task_id,
    itemId: r.item_id,
    subjectId: r.subject_id,
    imageKey: r.image_key,
    status: r.status,
    finalAnswer: r.final_answer,
    finalSource: r.final_source,
    agreement: r.agreement,
    adjudicatorId: r.adjudicator_id,
    assignments: r.assignments,
  }));
}

/** The items of the project's dataset version (empty until the version has arrived and was readable). */
export async function projectVersionItems(db: DataSource | QueryRunner, projectId: string): Promise<{ itemId: string; subjectId: string }[]> {
  const rows: { item_id: string; subject_id: string }[] = await db.query(
    `SELECT i->>'itemId' AS item_id, i->>'subjectId' AS subject_id
       FROM annotation_projects p
       JOIN annotation_dataset_versions v ON v.dataset_id = p.dataset_id AND v.version = p.dataset_version AND v.status = 'ready'
       CROSS JOIN LATERAL jsonb_array_elements(v.items) i
      WHERE p.project_id = $1`,
    [projectId],
  );
  return rows.map((r) => ({ itemId: r.item_id, subjectId: r.subject_id.toLowerCase() }));
}

/** The excluded subjects among the project's tasks and its dataset version's items (with no task if excluded early). */
export async function excludedSubjects(db: DataSource | QueryRunner, projectId: string): Promise<Map<string, LeaveOutReason[]>> {
  const rows: { subject_id: string; reason: LeaveOutReason }[] = await db.query(
    `SELECT e.subject_id, e.reason FROM annotation_excluded_subjects e
      WHERE e.subject_id IN (SELECT subject_id FROM annotation_tasks WHERE project_id = $1)
         OR e.subject_id::text IN (SELECT lower(i->>'subjectId')
                                    FROM annotation_projects p
                                    JOIN annotation_dataset_versions v ON v.dataset_id = p.dataset_id AND v.version = p.dataset_version
                                    CROSS JOIN LATERAL jsonb_array_elements(v.items) i
                                   WHERE p.project_id = $1)`,
    [projectId],
  );
  const map = new Map<string, LeaveOutReason[]>();
  for (const r of rows) map.set(r.subject_id, [...(map.get(r.subject_id) ?? []), r.reason]);
  return map;
}

function parseFormat(formatParam: string | undefined): ExchangeFormat {
  const format = (formatParam ?? 'llava') as ExchangeFormat;
  if (!EXCHANGE_FORMATS.includes(format)) {
    throw new AnnotationException(
      AnnotationErrorCode.InvalidRequest,
      `format must be one of ${EXCHANGE_FORMATS.join(', ')}, got ${JSON.stringify(formatParam)}`,
      ['query.format'],
    );
  }
  return format;
}

@Injectable()
export class AnnotationSetUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: AnnotationStreams,
    @Inject(ANNOTATION_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  /**
   * Freezes the project's final items into a new immutable set version: canonical JSON stored
   * content-addressed in `artifacts`, then AnnotationSetPublished with its key and hash. The
   * artifact is written first; if the append then loses a race, the retry builds the next version.
   */
  async publish(projectIdParam: string, actor: Actor): Promise<AnnotationSetRecord> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    const project = await requireProject(this.dataSource, projectId);
    const setId = uuidv7();
    await retryOnConflict(() =>
      // Everything is read in the appending transaction, under the exclusions lock, so a subject
      // excluded concurrently is either left out of this set or excluded after it was published.
      withTransaction(this.dataSource, async (tx) => {
        await lockExclusions(tx);
        await this.streams.handle(
          tx,
          projectStream(projectId),
          projectDecider,
          async (state) => {
            const version = state.status === 'none' ? 1 : state.setVersions + 1;
            const tasks = await tasksForSet(tx, projectId);
            const taskItems = new Set(tasks.map((t) => t.itemId));
            const built = buildAnnotationSet({
              projectId,
              version,
              datasetId: project.datasetId,
              datasetVersion: project.datasetVersion,
              taskType: project.rules.taskType,
              labels: project.rules.labels,
              tasks,
              excluded: await excludedSubjects(tx, projectId),
              untasked: (await projectVersionItems(tx, projectId)).filter((i) => !taskItems.has(i.itemId)),
            });
            const set = {
              setId,
              contentSha256: built.sha256,
              itemCount: built.content.items.length,
              leftOutCount: built.content.leftOutCount,
              leftOut: built.content.leftOut,
              pendingCount: built.content.pendingCount,
            };
            // Decide before writing the artifact, so an empty set writes nothing.
            decideProject(state, { type: 'PublishAnnotationSet', set: { ...set, artifact: { area: 'artifacts', key: 'pending', sha256: built.sha256 } } });
            const stored = await this.storage.putBuffer('artifacts', Buffer.from(built.json, 'utf8'), {
              prefix: `annotation-sets/${projectId}/`,
              contentType: 'application/json',
            });
            if (stored.sha256 !== built.sha256) throw new Error(`storage hashed the annotation set as ${stored.sha256}, expected ${built.sha256}`);
            return { type: 'PublishAnnotationSet' as const, set: { ...set, artifact: { area: 'artifacts' as const, key: stored.key, sha256: stored.sha256 } } };
          },
          actor,
        );
      }),
    );
    return this.get(projectId, undefined, setId);
  }

  async list(projectIdParam: string): Promise<AnnotationSetRecord[]> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    await requireProject(this.dataSource, projectId);
    const rows: SetRow[] = await this.dataSource.query('SELECT * FROM annotation_sets WHERE project_id = $1 ORDER BY version', [projectId]);
    return rows.map(toRecord);
  }

  async get(projectIdParam: string, versionParam?: string, setId?: string): Promise<AnnotationSetRecord> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    const rows: SetRow[] = setId
      ? await this.dataSource.query('SELECT * FROM annotation_sets WHERE set_id = $1', [setId])
      : await this.dataSource.query('SELECT * FROM annotation_sets WHERE project_id = $1 AND version = $2', [projectId, parseVersion(versionParam)]);
    if (!rows.length)
      throw new AnnotationException(
        AnnotationErrorCode.AnnotationSetNotFound,
        `project ${projectId} has no annotation set ${setId ?? `version ${versionParam}`}`,
      );
    return toRecord(rows[0]);
  }

  /** The stored set, verified against the hash its event recorded. */
  async content(projectId: string, version: string): Promise<AnnotationSetContent> {
    const record = await this.get(projectId, version);
    const bytes = await this.storage.getBuffer('artifacts', record.artifactKey);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== record.contentSha256) {
      throw new AnnotationException(AnnotationErrorCode.ArtifactCorrupt, `annotation set ${record.setId} does not match its recorded hash`);
    }
    return JSON.parse(bytes.toString('utf8')) as AnnotationSetContent;
  }

  async export(projectId: string, version: string, formatParam: string | undefined): Promise<{ contentType: string; body: string; filename: string }> {
    const format = parseFormat(formatParam);
    const set = await this.content(projectId, version);
    const out = exportSet(set, format);
    return { ...out, filename: `annotation-set-${set.projectId}-v${set.version}.${format === 'jsonl' ? 'jsonl' : 'json'}` };
  }

  /**
   * An export a trainer can use as it is: a tar of the images (`images/<sha256>.png`, or `.jpg`
   * for a curated JPEG, each once)
   * and then the export file, whose `image` fields are those relative paths instead of storage
   * keys. Items whose subject has been excluded since the set was published (consent withdrawn,
   * erased) are left out: their images must not leave any more. The images stream one at a time.
   */
  async exportBundle(
    projectId: string,
    version: string,
    formatParam: string | undefined,
    bundle: string,
  ): Promise<{ stream: Readable; filename: string; leftOut: number }> {
    if (bundle !== 'tar')
      throw new AnnotationException(
        AnnotationErrorCode.InvalidRequest,
        `bundle must be tar (or left out for the export file alone), got ${JSON.stringify(bundle)}`,
        ['query.bundle'],
      );
    const format = parseFormat(formatParam);
    const record = await this.get(projectId, version);
    const set = await this.content(projectId, version);
    if (format === 'coco') exportSet({ ...set, items: [] }, format); // refuses a non-caption set before anything is streamed
    const excluded = await excludedSubjects(this.dataSource, set.projectId);
    const items = set.items.filter((i) => !excluded.has(i.subjectId));
    const mtime = new Date(record.publishedAt);
    const storage = this.storage;
    const name = `annotation-set-${set.projectId}-v${set.version}`;
    async function* tar(): AsyncGenerator<Buffer> {
      const paths = new Map<string, string>();
      for (const item of items) {
        if (paths.has(item.image)) continue;
        const bytes = await storage.getBuffer('curated', item.image);
        const path = `images/${createHash('sha256').update(bytes).digest('hex')}.${curatedImageMediaType(bytes) === 'image/jpeg' ? 'jpg' : 'png'}`;
        if (![...paths.values()].includes(path)) yield* ustarEntry(path, bytes, mtime);
        paths.set(item.image, path);
      }
      const out = exportSet({ ...set, items: items.map((i) => ({ ...i, image: paths.get(i.image)! })) }, format);
      yield* ustarEntry(`${name}.${format === 'jsonl' ? 'jsonl' : 'json'}`, Buffer.from(out.body, 'utf8'), mtime);
      yield ustarEnd();
    }
    return { stream: Readable.from(tar()), filename: `${name}.tar`, leftOut: set.items.length - items.length };
  }

  /** Agreement now, per project and per annotator, over the final items (accepted annotations). */
  async agreement(projectIdParam: string): Promise<AgreementStatistics> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    const project = await requireProject(this.dataSource, projectId);
    const tasks = (await tasksForSet(this.dataSource, projectId)).filter((t) => t.status === 'final' || t.status === 'adjudication');
    return agreementStatistics(
      project.rules.taskType,
      tasks.map((t) => ({
        itemId: t.itemId,
        annotations: t.assignments.filter((a) => a.status === 'accepted' && a.answer).map((a) => ({ annotatorId: a.annotatorId, answer: a.answer! })),
        final: t.finalAnswer,
      })),
    );
  }
}

interface SetRow {
  set_id: string;
  project_id: string;
  version: number;
  content_sha256: string;
  artifact_key: string;
  item_count: number;
  left_out_count: number;
  left_out: { reason: LeaveOutReason; count: number }[];
  pending_count: number;
  published_by: string;
  published_at: Date;
}

const toRecord = (r: SetRow): AnnotationSetRecord => ({
  setId: r.set_id,
  projectId: r.project_id,
  version: r.version,
  contentSha256: r.content_sha256,
  artifactKey: r.artifact_key,
  itemCount: r.item_count,
  leftOutCount: r.left_out_count,
  leftOut: r.left_out,
  pendingCount: r.pending_count,
  publishedBy: r.published_by,
  publishedAt: r.published_at.toISOString(),
});
