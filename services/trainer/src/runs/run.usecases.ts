import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, AnnotationSetRef, isUuid, PAGE_LIMIT_MAX, parsePageLimit, TrainingRequested } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { retryOnConflict } from '@trellis/event-store';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { runStream } from './run.decider';
import { findBaseModel, listRuns, requireRun, resolveSets, RunView } from './run.queries';
import { parseRunRequest, RequestProblem, SetReference, unmatchedTargetModules } from './run-request';
import { RunProgressPoint, RunStreams } from './run.streams';

export function requireUuid(value: string, what: string, field: string): string {
  if (!isUuid(value)) throw new TrainerException(TrainerErrorCode.InvalidRequest, `${what} must be a UUID, got ${JSON.stringify(value)}`, [field]);
  return value.toLowerCase();
}

function refuse(problems: RequestProblem[]): never {
  throw new TrainerException(
    TrainerErrorCode.InvalidRequest,
    `the training request has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    problems.map((p) => p.field),
  );
}

const RUN_STATUSES = ['requested', 'frozen', 'running', 'completed', 'failed', 'cancelled'];

const conflict = () => new TrainerException(TrainerErrorCode.ConcurrentChange, 'the run changed concurrently too often; try again');

@Injectable()
export class RunUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RunStreams,
  ) {}

  /**
   * Checks a request whole (shape, then every lookup) and appends TrainingRequested; a request
   * with any problem is refused with all of them, each naming its field, and appends nothing.
   * The snapshot is frozen later, by the trainer process that takes the run, just before its first step.
   */
  async request(body: unknown, actor: Actor): Promise<RunView> {
    const { request, problems } = parseRunRequest(body);
    if (!request) refuse(problems);
    const base = await findBaseModel(this.dataSource, request.baseModelId);
    if (!base) problems.push({ field: 'body.baseModelId', message: `no base model ${request.baseModelId} is registered` });
    const teacher = request.teacherModelId ? await findBaseModel(this.dataSource, request.teacherModelId) : null;
    if (request.teacherModelId && !teacher) problems.push({ field: 'body.teacherModelId', message: `no base model ${request.teacherModelId} is registered` });
    // Distillation matches the two models' distributions token by token: one tokenizer for both.
    const tokenizerOf = (m: typeof base) => m?.files.find((f) => f.name === 'tokenizer.json')?.sha256;
    if (base && teacher && tokenizerOf(base) !== tokenizerOf(teacher)) {
      problems.push({
        field: 'body.teacherModelId',
        message: "the teacher's tokenizer.json differs from the student's; distillation needs the same tokenizer",
      });
    }
    if (base && request.hyperparameters.lora) {
      const unmatched = unmatchedTargetModules(base.architecture.linearModules, request.hyperparameters.lora.targetModules);
      if (unmatched.length > 0) {
        const suffixes = [...new Set(base.architecture.linearModules.map((n) => n.split('.').pop()!))].sort();
        const message = `${unmatched.map((u) => JSON.stringify(u)).join(', ')} match${unmatched.length === 1 ? 'es' : ''} no linear layer of the base model; its layer names end in ${suffixes.join(', ')}`;
        problems.push({ field: 'body.hyperparameters.targetModules', message });
      }
    }
    const sets = await this.sets(request.annotationSets, 'body.annotationSets', problems);
    const evaluation =
      request.evaluation.kind === 'sets'
        ? { kind: 'sets' as const, annotationSets: await this.sets(request.evaluation.annotationSets, 'body.evaluation.annotationSets', problems) }
        : request.evaluation;
    if (problems.length > 0) refuse(problems);
    const data: TrainingRequested['data'] = {
      runId: uuidv7(),
      method: request.method,
      baseModel: { baseModelId: base!.baseModelId, manifestSha256: base!.manifestSha256 },
      teacher: teacher ? { baseModelId: teacher.baseModelId, manifestSha256: teacher.manifestSha256 } : null,
      annotationSets: sets,
      evaluation,
      hyperparameters: request.hyperparameters,
      purpose: request.purpose,
      replaces: null,
      modelName: request.modelName,
    };
    return this.append(data, actor);
  }

  /**
   * A new run with the replaced run's configuration and seed whose snapshot is the replaced one's
   * less every subject who has since withdrawn or been erased: how a team answers an erasure
   * request for a model. Only a run whose snapshot was frozen can be retrained.
   */
  async retrainExcludingWithdrawn(runIdParam: string, actor: Actor): Promise<RunView> {
    const runId = await withTransaction(this.dataSource, (tx) => this.retrainIn(tx, requireUuid(runIdParam, 'run id', 'params.runId'), actor));
    return requireRun(this.dataSource, runId);
  }

  /**
   * The same in the caller's transaction (the registry's RetrainRequested, heard in the inbox's
   * transaction, so a redelivery cannot start a second run). Returns the new run's id.
   */
  async retrainIn(tx: QueryRunner, runId: string, actor: Actor): Promise<string> {
    const replaced = await requireRun(tx, runId);
    if (!replaced.snapshot) {
      throw new TrainerException(
        TrainerErrorCode.RunNotFinished,
        `run ${replaced.runId} has no frozen snapshot yet (it is ${replaced.status}); nothing to retrain from`,
      );
    }
    const data = { ...replaced.request, runId: uuidv7(), replaces: replaced.runId };
    await this.streams.start(tx, runStream(data.runId), [{ type: 'TrainingRequested', data }], actor);
    return data.runId;
  }

  async cancel(runIdParam: string, actor: Actor): Promise<RunView> {
    const runId = requireUuid(runIdParam, 'run id', 'params.runId');
    await requireRun(this.dataSource, runId);
    await retryOnConflict(() => withTransaction(this.dataSource, (tx) => this.streams.handle(tx, runId, { type: 'RequestCancel' }, actor)), conflict);
    return requireRun(this.dataSource, runId);
  }

  get(runIdParam: string): Promise<RunView> {
    return requireRun(this.dataSource, requireUuid(runIdParam, 'run id', 'params.runId'));
  }

  /**
   * The run's loss curve: every progress report from its own stream (engineers and approvers read
   * runs but not the audit trail, and the run's read model keeps only the last report). A run
   * resumed from a checkpoint reports some steps again: each report is listed as it was made.
   */
  async progress(runIdParam: string): Promise<RunProgressPoint[]> {
    const run = await requireRun(this.dataSource, requireUuid(runIdParam, 'run id', 'params.runId'));
    return this.streams.progress(run.runId);
  }

  list(status: string | undefined, limitParam: string | undefined): Promise<RunView[]> {
    if (status !== undefined && !RUN_STATUSES.includes(status)) {
      throw new TrainerException(TrainerErrorCode.InvalidRequest, `status must be one of ${RUN_STATUSES.join(', ')}`, ['query.status']);
    }
    const limit = parsePageLimit(limitParam);
    if (limit === undefined) {
      throw new TrainerException(TrainerErrorCode.InvalidRequest, `limit must be an integer from 1 to ${PAGE_LIMIT_MAX}`, ['query.limit']);
    }
    return listRuns(this.dataSource, status, limit);
  }

  private async append(data: TrainingRequested['data'], actor: Actor): Promise<RunView> {
    await withTransaction(this.dataSource, (tx) => this.streams.start(tx, runStream(data.runId), [{ type: 'TrainingRequested', data }], actor));
    return requireRun(this.dataSource, data.runId);
  }

  private async sets(refs: SetReference[], field: string, problems: RequestProblem[]): Promise<AnnotationSetRef[]> {
    const resolved = await resolveSets(this.dataSource, refs);
    resolved.forEach((r, i) => {
      if (!r) {
        const ref = refs[i];
        const what = 'setId' in ref ? `set ${ref.setId}` : `version ${ref.version} of project ${ref.projectId}`;
        problems.push({ field: `${field}.${i}`, message: `no published annotation set ${what} has reached the trainer` });
      }
    });
    return resolved.filter((r): r is AnnotationSetRef => r !== null);
  }
}
