import { Inject, Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, REQUIRED_MODEL_CARD_FIELDS } from '@trellis/contracts';
import {
  cardRevisions,
  findPromotion,
  findVersionById,
  latestCompletedEvaluation,
  listPromotions,
  PromotionView,
  requireModelByName,
  sharedEvaluationSet,
  VersionView,
} from '../models/model.queries';
import { onModel, requireVersion } from '../models/model.usecases';
import { RegistryConfig } from '../registry.config';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import { CommentBody, limitParam, parseBody, PromotionBody, ReasonBody, requireAlias, requireModelName, requireUuidParam } from '../registry-requests';
import { REGISTRY_CONFIG } from '../registry.tokens';
import { RegistryStreams } from '../streams/registry.streams';
import { GateFacts } from './promotion-gates';

const PROMOTION_STATUSES = ['pending', 'approved', 'rejected'];

/**
 * Promotion: the use case gathers what the gates look at from the read models (in the
 * transaction that appends, after reading the model's stream), the decider runs the gates and
 * the approval rules. Approval and rejection need the approver role (the controller checks it)
 * and a person other than the requester and the run's requester (the decider checks it).
 */
@Injectable()
export class PromotionUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RegistryStreams,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async request(body: unknown, actor: Actor): Promise<PromotionView> {
    const input = parseBody(PromotionBody, body);
    const v = await requireVersion(this.dataSource, input.model, input.version);
    const promotionId = uuidv7();
    await onModel(this.dataSource, (tx) =>
      this.streams.model(
        tx,
        v.modelId,
        async (state) => ({
          type: 'RequestPromotion',
          data: { modelId: v.modelId, promotionId, alias: input.alias, modelVersionId: v.modelVersionId, requestedBy: actor.id, reason: input.reason },
          facts: await this.facts(
            tx,
            v,
            state.aliases[input.alias] ?? null,
            input.tolerance ?? this.config.promotionTolerance,
            input.evaluationSetSha256 ?? null,
          ),
        }),
        actor,
      ),
    );
    return (await findPromotion(this.dataSource, promotionId))!;
  }

  async approve(idParam: string, body: unknown, actor: Actor): Promise<PromotionView> {
    const { comment } = parseBody(CommentBody, body);
    return this.decide(idParam, actor, (promotionId) => ({ type: 'Approve', promotionId, approverId: actor.id, comment }));
  }

  async reject(idParam: string, body: unknown, actor: Actor): Promise<PromotionView> {
    const { comment } = parseBody(CommentBody, body);
    return this.decide(idParam, actor, (promotionId) => ({ type: 'Reject', promotionId, approverId: actor.id, comment }));
  }

  /** Moves the alias back to its previous holder that is neither archived nor flagged; recorded with actor and reason. */
  async rollback(name: string, aliasParam: string, body: unknown, actor: Actor): Promise<{ alias: string; version: number | null }> {
    return this.moveBack('Rollback', name, aliasParam, body, actor);
  }

  private async moveBack(
    type: 'Rollback' | 'Demote',
    name: string,
    aliasParam: string,
    body: unknown,
    actor: Actor,
  ): Promise<{ alias: string; version: number | null }> {
    const model = await requireModelByName(this.dataSource, requireModelName(name));
    const alias = requireAlias(aliasParam);
    const { reason } = parseBody(ReasonBody, body);
    const result = await onModel(this.dataSource, (tx) => this.streams.model(tx, model.modelId, { type, alias, reason }, actor));
    const to = result.newState.aliases[alias] ?? null;
    return { alias, version: to === null ? null : (result.newState.versions.find((x) => x.modelVersionId === to)?.version ?? null) };
  }

  /** Moves the alias to its last holder that is neither archived nor flagged, or takes it off the model; recorded. */
  async demote(name: string, aliasParam: string, body: unknown, actor: Actor): Promise<{ alias: string; version: number | null }> {
    return this.moveBack('Demote', name, aliasParam, body, actor);
  }

  async get(idParam: string): Promise<PromotionView> {
    const id = requireUuidParam(idParam, 'params.promotionId');
    return (await findPromotion(this.dataSource, id)) ?? fail(RegistryErrorCode.PromotionNotFound, `no promotion ${id}`);
  }

  async list(status: string | undefined, limit: string | undefined, model: string | undefined): Promise<PromotionView[]> {
    if (status !== undefined && !PROMOTION_STATUSES.includes(status))
      fail(RegistryErrorCode.InvalidRequest, `query.status: one of ${PROMOTION_STATUSES.join(', ')}`, ['query.status']);
    const max = limitParam(limit);
    const modelId = model === undefined ? null : (await requireModelByName(this.dataSource, requireModelName(model, 'query.model'))).modelId;
    return listPromotions(this.dataSource, { status: status ?? null, modelId }, max);
  }

  private async decide(
    idParam: string,
    actor: Actor,
    command: (promotionId: string) => { type: 'Approve' | 'Reject'; promotionId: string; approverId: string; comment: string },
  ): Promise<PromotionView> {
    const p = await this.get(idParam);
    await onModel(this.dataSource, (tx) => this.streams.model(tx, p.modelId, command(p.promotionId), actor));
    return (await findPromotion(this.dataSource, p.promotionId))!;
  }

  /**
   * What the gates compare: the evaluation set named, or else the latest set both the candidate
   * and the holder were evaluated on (the candidate's latest when the alias is free); each
   * version's latest completed metrics there; the card's missing fields; the consent flag.
   */
  private async facts(tx: QueryRunner, asked: VersionView, holderId: string | null, tolerance: number, named: string | null): Promise<GateFacts> {
    // Read again in the appending transaction: a flag may have arrived since the request was parsed.
    const v = (await findVersionById(tx, asked.modelVersionId))!;
    const holder = holderId === null ? null : await findVersionById(tx, holderId);
    const set =
      named ??
      (holder
        ? await sharedEvaluationSet(tx, v.modelVersionId, holder.modelVersionId)
        : ((await latestCompletedEvaluation(tx, v.modelVersionId, null))?.annotationSet.contentSha256 ?? null));
    const candidate = set === null ? null : await latestCompletedEvaluation(tx, v.modelVersionId, set);
    const held = holder && set !== null ? await latestCompletedEvaluation(tx, holder.modelVersionId, set) : null;
    const card = (await cardRevisions(tx, v.modelVersionId)).at(-1)?.fields ?? {};
    return {
      evaluationSetSha256: set,
      candidateMetrics: candidate?.metrics ?? null,
      holder: holder ? { modelVersionId: holder.modelVersionId, version: holder.version, metrics: held?.metrics ?? null } : null,
      tolerance,
      parametersTotal: v.parameters.total,
      budget: this.config.parameterBudget,
      flag: v.flag,
      missingCardFields: REQUIRED_MODEL_CARD_FIELDS.filter((f) => !card[f]?.trim()),
    };
  }
}

function fail(code: RegistryErrorCode, message: string, fields?: string[]): never {
  throw new RegistryException(code, message, fields);
}
