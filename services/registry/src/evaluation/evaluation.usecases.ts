import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, AnnotationSetRef } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { EvaluationView, findEvaluation, listEvaluations } from '../models/model.queries';
import { requireVersion } from '../models/model.usecases';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import { EvaluationBody, limitParam, parseBody, requireUuidParam } from '../registry-requests';
import { RegistryStreams } from '../streams/registry.streams';

/** At most this many overlapping items and subjects are named in a refusal; the counts are always whole. */
const NAMED = 20;

interface SetRow {
  set_id: string;
  project_id: string;
  version: number;
  content_sha256: string;
}

/**
 * Evaluation requests: a version on a published annotation set that shares no item (by id or by
 * image content hash) and no subject (pseudonymous id) with the version's training snapshot;
 * an overlapping request is refused, naming the overlap. The run itself happens off the request
 * path (EvaluationExecutor).
 */
@Injectable()
export class EvaluationUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RegistryStreams,
  ) {}

  async request(body: unknown, actor: Actor): Promise<EvaluationView> {
    const input = parseBody(EvaluationBody, body);
    const v = await requireVersion(this.dataSource, input.model, input.version);
    if (v.archived)
      throw new RegistryException(RegistryErrorCode.VersionArchived, `version ${v.version} of ${v.modelName} is archived; it takes no evaluation`);
    const set = await this.resolveSet(input.annotationSet);
    await this.refuseOverlap(v.modelVersionId, set);
    const evaluationId = uuidv7();
    const annotationSet: AnnotationSetRef = { setId: set.set_id, projectId: set.project_id, version: set.version, contentSha256: set.content_sha256 };
    await withTransaction(this.dataSource, (tx) =>
      this.streams.evaluation(
        tx,
        evaluationId,
        {
          type: 'RequestEvaluation',
          data: { evaluationId, modelId: v.modelId, modelVersionId: v.modelVersionId, annotationSet, seed: input.seed, maxNewTokens: input.maxNewTokens },
        },
        actor,
      ),
    );
    return (await findEvaluation(this.dataSource, evaluationId))!;
  }

  async get(idParam: string): Promise<EvaluationView> {
    const id = requireUuidParam(idParam, 'params.evaluationId');
    return (await findEvaluation(this.dataSource, id)) ?? fail(RegistryErrorCode.EvaluationNotFound, `no evaluation ${id}`);
  }

  async list(query: { model?: string; version?: string; limit?: string }): Promise<EvaluationView[]> {
    if ((query.model === undefined) !== (query.version === undefined))
      fail(RegistryErrorCode.InvalidRequest, 'give model and version together, or neither', ['query.model', 'query.version']);
    const v = query.model !== undefined ? await requireVersion(this.dataSource, query.model, query.version!) : null;
    return listEvaluations(this.dataSource, v?.modelVersionId ?? null, limitParam(query.limit));
  }

  private async resolveSet(ref: { setId: string } | { projectId: string; version: number }): Promise<SetRow> {
    const rows: SetRow[] =
      'setId' in ref
        ? await this.dataSource.query('SELECT set_id, project_id, version, content_sha256 FROM registry_annotation_sets WHERE set_id = $1', [ref.setId])
        : await this.dataSource.query(
            'SELECT set_id, project_id, version, content_sha256 FROM registry_annotation_sets WHERE project_id = $1 AND version = $2',
            [ref.projectId, ref.version],
          );
    const what = 'setId' in ref ? `set ${ref.setId}` : `version ${ref.version} of project ${ref.projectId}`;
    return (
      rows[0] ??
      fail(RegistryErrorCode.InvalidRequest, `body.annotationSet: no published annotation set ${what} has reached the registry`, ['body.annotationSet'])
    );
  }

  private async refuseOverlap(modelVersionId: string, set: SetRow): Promise<void> {
    const items: { item_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT e.item_id FROM registry_set_items e JOIN registry_snapshot_items s
         ON s.model_version_id = $1 AND (s.item_id = e.item_id OR s.image_sha256 = e.image_sha256)
       WHERE e.set_id = $2 ORDER BY e.item_id`,
      [modelVersionId, set.set_id],
    );
    const subjects: { subject_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT e.subject_id FROM registry_set_items e JOIN registry_snapshot_items s ON s.model_version_id = $1 AND s.subject_id = e.subject_id
       WHERE e.set_id = $2 ORDER BY e.subject_id`,
      [modelVersionId, set.set_id],
    );
    if (items.length === 0 && subjects.length === 0) return;
    const named = (xs: string[]) => `${xs.slice(0, NAMED).join(', ')}${xs.length > NAMED ? ` and ${xs.length - NAMED} more` : ''}`;
    const parts = [
      items.length > 0 ? `${items.length} item(s) of the set are in the training snapshot: ${named(items.map((i) => i.item_id))}` : null,
      subjects.length > 0 ? `${subjects.length} subject(s) have items on both sides: ${named(subjects.map((s) => s.subject_id))}` : null,
    ].filter((p): p is string => p !== null);
    throw new RegistryException(RegistryErrorCode.EvaluationOverlap, `the evaluation set overlaps the version's training snapshot: ${parts.join('; ')}`, [
      'body.annotationSet',
    ]);
  }
}

function fail(code: RegistryErrorCode, message: string, fields?: string[]): never {
  throw new RegistryException(code, message, fields);
}
