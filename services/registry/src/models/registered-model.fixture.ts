import type {
  AliasMoved,
  Metrics,
  PromotionApproved,
  ModelVersionFlagged,
  ModelVersionRegistered,
  PromotionGatesChecked,
  PromotionRequested,
  RegisteredModelCreated,
} from '@trellis/contracts';
import { checkGates, GateFacts, PARAMETER_BUDGET } from '../promotion/promotion-gates';

/** Test data: one registered model's events, the one builder style of the registry's specs. */
export const MODEL_ID = '01940000-0000-7000-8000-000000000001';
export const SHA = 'c'.repeat(64);
export const SET_SHA = 'e'.repeat(64);
export const versionId = (n: number) => `01940000-0000-7000-8000-0000000001${String(n).padStart(2, '0')}`;
export const runId = (n: number) => `01940000-0000-7000-8000-0000000002${String(n).padStart(2, '0')}`;
export const promotionId = (n: number) => `01940000-0000-7000-8000-0000000003${String(n).padStart(2, '0')}`;
export const subjectId = (n: number) => `01940000-0000-7000-8000-0000000004${String(n).padStart(2, '0')}`;

/** Principals: the engineer who trained, the one who asks for promotion, an independent approver. */
export const TRAINER_ENGINEER = 'engineer-a';
export const PROMOTER = 'engineer-b';
export const APPROVER = 'approver-c';

export const metrics = (m: Partial<Metrics> = {}): Metrics => ({ bleu: 30, ciderD: 1.2, vqaAccuracy: 60, perplexity: 8, ...m });

export class ModelEvents {
  static created(): RegisteredModelCreated {
    return { type: 'RegisteredModelCreated', data: { modelId: MODEL_ID, name: 'chest-xray-captioner', description: null } };
  }

  static registered(n: number, requestedBy = TRAINER_ENGINEER): ModelVersionRegistered {
    return {
      type: 'ModelVersionRegistered',
      data: {
        modelId: MODEL_ID,
        modelVersionId: versionId(n),
        version: n,
        source: { kind: 'training-run', runId: runId(n), requestedBy },
        method: 'lora',
        baseModel: { baseModelId: '01940000-0000-7000-8000-0000000000b1', manifestSha256: SHA },
        files: [{ name: 'adapter_model.safetensors', key: `runs/${runId(n)}/adapter_model.safetensors`, sha256: SHA, size: 10 }],
        snapshot: {
          manifest: { name: 'snapshot.json', key: `runs/${runId(n)}/snapshot.json`, sha256: SHA, size: 10 },
          merkleRoot: SHA,
          includedItems: 10,
          includedSubjects: 4,
          heldOutItems: 2,
          consentAsOf: '2026-12-01T00:00:00.000Z',
        },
        annotationSets: [],
        purpose: 'model-training',
        parameters: { languageModel: 100, visionEncoder: 50, projector: 10, total: 160, trainable: 8 },
      },
    };
  }

  /** A promotion of version `n` to `alias` whose gates passed (the events the decider gives for passing facts). */
  static promotionRequested(n: number, p: number, alias = 'champion', current: string | null = null): [PromotionRequested, PromotionGatesChecked] {
    const facts = ModelEvents.facts({ holder: current === null ? null : { modelVersionId: current, version: 1, metrics: metrics() } });
    return [
      {
        type: 'PromotionRequested',
        data: {
          modelId: MODEL_ID,
          promotionId: promotionId(p),
          alias,
          modelVersionId: versionId(n),
          requestedBy: PROMOTER,
          currentVersionId: current,
          evaluationSetSha256: SET_SHA,
          tolerance: facts.tolerance,
          reason: 'better captions',
        },
      },
      { type: 'PromotionGatesChecked', data: { modelId: MODEL_ID, promotionId: promotionId(p), passed: true, verdicts: checkGates(facts) } },
    ];
  }

  static approved(p: number): PromotionApproved {
    return { type: 'PromotionApproved', data: { modelId: MODEL_ID, promotionId: promotionId(p), approvedBy: APPROVER, comment: 'ok' } };
  }

  static moved(alias: string, to: number | null, from: number | null, kind: AliasMoved['data']['kind'] = 'promotion', p: number | null = null): AliasMoved {
    return {
      type: 'AliasMoved',
      data: {
        modelId: MODEL_ID,
        alias,
        modelVersionId: to === null ? null : versionId(to),
        previousVersionId: from === null ? null : versionId(from),
        kind,
        promotionId: p === null ? null : promotionId(p),
        reason: 'ok',
      },
    };
  }

  static flagged(n: number, subjects: number[] = [1], items = 3): ModelVersionFlagged {
    return {
      type: 'ModelVersionFlagged',
      data: {
        modelId: MODEL_ID,
        modelVersionId: versionId(n),
        trigger: 'consent-withdrawn',
        subjectIds: subjects.map(subjectId),
        itemsAffected: items,
        snapshotSha256: SHA,
      },
    };
  }

  /** Gate facts that pass every gate unless overridden. */
  static facts(overrides: Partial<GateFacts> = {}): GateFacts {
    return {
      evaluationSetSha256: SET_SHA,
      candidateMetrics: metrics(),
      holder: null,
      tolerance: 0.5,
      parametersTotal: 160,
      budget: PARAMETER_BUDGET,
      flag: null,
      missingCardFields: [],
      ...overrides,
    };
  }
}
