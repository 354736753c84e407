import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, EXCHANGE_FORMATS, ExchangeFormat, LeaveOutReason } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { requireProject } from '../projects/project.queries';
import { excludedSubjects } from '../sets/annotation-set.usecases';
import { validateAnswer } from '../tasks/answer.validation';
import { AnnotationStreams, requireUuid, taskDecider, taskStream } from '../tasks/task.streams';
import { importFailure, ImportProblem, parseImport } from './exchange-formats';

export interface ImportResult {
  importId: string;
  format: ExchangeFormat;
  imported: number;
  /** Records for subjects whose consent was withdrawn or who were erased: not imported. */
  skipped: { reason: LeaveOutReason; count: number }[];
}

/** Sizes beyond this are refused before parsing. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

/**
 * Imports final answers labelled elsewhere onto the items of a project's dataset version, all or
 * nothing: every record is checked first (format, which item it names, its answer against the
 * project's rules, duplicates, items already final) and any problem refuses the whole file
 * with the records and fields named; then one transaction appends every ItemImported.
 */
@Injectable()
export class ImportAnnotationsUseCase {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: AnnotationStreams,
  ) {}

  async import(projectIdParam: string, formatParam: string | undefined, text: string, actor: Actor): Promise<ImportResult> {
    const projectId = requireUuid(projectIdParam, 'project id', 'params.projectId');
    const format = formatParam as ExchangeFormat;
    if (!EXCHANGE_FORMATS.includes(format)) {
      throw new AnnotationException(
        AnnotationErrorCode.InvalidRequest,
        `format must be one of ${EXCHANGE_FORMATS.join(', ')}, got ${JSON.stringify(formatParam)}`,
        ['query.format'],
      );
    }
    if (Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES)
      throw new AnnotationException(AnnotationErrorCode.InvalidImport, `the import file is larger than ${MAX_IMPORT_BYTES} bytes`, ['file']);
    const project = await requireProject(this.dataSource, projectId);
    const { records, problems } = parseImport(format, text, project.rules.taskType);

    const tasks: { task_id: string; item_id: string; image_key: string; subject_id: string; status: string }[] = await this.dataSource.query(
      'SELECT task_id, item_id, image_key, subject_id, status FROM annotation_tasks WHERE project_id = $1',
      [projectId],
    );
    const byItem = new Map(tasks.map((t) => [t.item_id, t]));
    const byImage = new Map(tasks.map((t) => [t.image_key, t]));
    const excluded = await excludedSubjects(this.dataSource, projectId);
    const planned: { taskId: string; answer: ReturnType<typeof validateAnswer> }[] = [];
    const skipped = new Map<LeaveOutReason, number>();
    const claimed = new Map<string, string>();
    const all: ImportProblem[] = [...problems];
    for (const r of records) {
      const task = (r.id ? byItem.get(r.id.toLowerCase()) : undefined) ?? (r.image ? byImage.get(r.image) : undefined);
      if (!task) {
        all.push({
          where: r.where,
          field: 'id',
          message: `names no image of dataset ${project.datasetId} v${project.datasetVersion} in this project (id ${JSON.stringify(r.id)}, image ${JSON.stringify(r.image)})`,
        });
        continue;
      }
      const reasons = excluded.get(task.subject_id);
      if (reasons?.length) {
        skipped.set(reasons[0], (skipped.get(reasons[0]) ?? 0) + 1);
        continue;
      }
      if (claimed.has(task.task_id)) {
        all.push({ where: r.where, field: 'id', message: `item ${task.item_id} appears again (first in ${claimed.get(task.task_id)})` });
        continue;
      }
      claimed.set(task.task_id, r.where);
      if (task.status === 'final') {
        all.push({ where: r.where, field: 'id', message: `item ${task.item_id} already has a final answer in this project` });
        continue;
      }
      try {
        planned.push({ taskId: task.task_id, answer: validateAnswer(project.rules, r.answer, 'answer') });
      } catch (err) {
        if (!(err instanceof AnnotationException)) throw err;
        all.push({ where: r.where, field: err.fields?.[0] ?? 'answer', message: err.message.replace(/^[^:]+: /, '') });
      }
    }
    if (all.length) throw importFailure(all);

    const importId = uuidv7();
    await withTransaction(this.dataSource, async (tx) => {
      for (const p of planned) {
        await this.streams.handle(
          tx,
          taskStream(p.taskId),
          taskDecider,
          { type: 'ImportAnswer', answer: p.answer, format, importId, rules: project.rules },
          actor,
        );
      }
    });
    return { importId, format, imported: planned.length, skipped: [...skipped].map(([reason, count]) => ({ reason, count })) };
  }
}
