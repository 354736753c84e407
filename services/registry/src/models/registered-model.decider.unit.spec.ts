import type { RegisteredModelEvent } from '@trellis/contracts';
import { deciderSpec } from '@trellis/testing';
import { GateFacts } from '../promotion/promotion-gates';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import { RegisteredModelCommand, registeredModelDecider, RegisteredModelState } from './registered-model.decider';
import { APPROVER, metrics, MODEL_ID, ModelEvents, PROMOTER, promotionId, runId, SET_SHA, TRAINER_ENGINEER, versionId } from './registered-model.fixture';

const spec = deciderSpec<RegisteredModelState, RegisteredModelCommand, RegisteredModelEvent>(registeredModelDecider);

const refusedWith = (code: RegistryErrorCode, message?: RegExp) => (err: unknown) => {
  expect(err).toBeInstanceOf(RegistryException);
  expect((err as RegistryException).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
};

const twoVersions = () => [ModelEvents.created(), ModelEvents.registered(1), ModelEvents.registered(2)];
/** Version 1 is champion (promoted by promotion 1); version 2 is registered. */
const championIsOne = () => [
  ...twoVersions(),
  ...ModelEvents.promotionRequested(1, 1),
  ModelEvents.approved(1),
  ModelEvents.moved('champion', 1, null, 'promotion', 1),
];

const request = (facts: GateFacts, n = 2, p = 2): RegisteredModelCommand => ({
  type: 'RequestPromotion',
  data: { modelId: MODEL_ID, promotionId: promotionId(p), alias: 'champion', modelVersionId: versionId(n), requestedBy: PROMOTER, reason: 'better captions' },
  facts,
});
const holderOne = (m = metrics()) => ({ holder: { modelVersionId: versionId(1), version: 1, metrics: m } });

const decideOn = (events: RegisteredModelEvent[], command: RegisteredModelCommand) =>
  registeredModelDecider.decide(events.reduce(registeredModelDecider.evolve, registeredModelDecider.initialState), command);

/** The verdict of one gate in the events of a promotion request. */
function verdictOf(events: RegisteredModelEvent[], gate: string) {
  const checked = events.find((e) => e.type === 'PromotionGatesChecked');
  if (checked?.type !== 'PromotionGatesChecked') throw new Error('no PromotionGatesChecked');
  return checked.data.verdicts.find((v) => v.gate === gate)!;
}

describe('registeredModelDecider', () => {
  describe('RegisterVersion', () => {
    it('numbers versions within the model', () => {
      const { version: _version, ...data } = ModelEvents.registered(3).data;
      spec
        .given(twoVersions())
        .when({ type: 'RegisterVersion', data })
        .then([ModelEvents.registered(3)]);
    });
    it('registers a training run once, however often its completion is heard', () => {
      const { version: _version, ...data } = ModelEvents.registered(2).data;
      spec.given(twoVersions()).when({ type: 'RegisterVersion', data }).then([]);
    });
  });

  describe('RequestPromotion', () => {
    it('records the request and every gate passing, then waits for approval', () => {
      const events = decideOn(championIsOne(), request(ModelEvents.facts(holderOne())));
      expect(events.map((e) => e.type)).toEqual(['PromotionRequested', 'PromotionGatesChecked']);
      expect(events[0].data).toMatchObject({ currentVersionId: versionId(1), evaluationSetSha256: SET_SHA, tolerance: 0.5, requestedBy: PROMOTER });
      const checked = events[1];
      if (checked.type !== 'PromotionGatesChecked') throw new Error('unexpected');
      expect(checked.data.passed).toBe(true);
      expect(checked.data.verdicts.map((v) => [v.gate, v.passed])).toEqual([
        ['metrics', true],
        ['parameter-budget', true],
        ['consent', true],
        ['model-card', true],
      ]);
    });

    const failing: [string, Partial<GateFacts>, RegExp][] = [
      [
        'metrics (worse beyond the tolerance)',
        { ...holderOne(metrics({ bleu: 31 })), candidateMetrics: metrics({ bleu: 30.4 }) },
        /bleu 30\.4000 < 30\.5000 \(holder 31\)/,
      ],
      [
        'metrics (perplexity is better lower)',
        { ...holderOne(metrics({ perplexity: 8 })), candidateMetrics: metrics({ perplexity: 8.6 }) },
        /perplexity 8\.6000 > 8\.5000/,
      ],
      ['metrics (the candidate has no evaluation)', { candidateMetrics: null }, /no completed evaluation/],
      [
        'metrics (the holder has no evaluation on the set)',
        { holder: { modelVersionId: versionId(1), version: 1, metrics: null } },
        /holder \(version 1\) has no evaluation/,
      ],
      ['parameter-budget', { parametersTotal: 7e9 + 1 }, /7000000001 parameters exceed the budget of 7000000000/],
      ['consent', { flag: { subjects: 2, items: 5 } }, /2 subject\(s\).*withdrew consent/],
      ['model-card', { missingCardFields: ['intendedUse', 'caveats'] }, /lacks intendedUse, caveats/],
    ];
    it.each(failing)('records a failing %s gate with its reason and rejects by the gates', (_name, overrides, reason) => {
      const gate = _name.split(' ')[0];
      const facts = ModelEvents.facts({ ...holderOne(), ...overrides });
      const events = decideOn(championIsOne(), request(facts));
      expect(events.map((e) => e.type)).toEqual(['PromotionRequested', 'PromotionGatesChecked', 'PromotionRejected']);
      expect(verdictOf(events, gate)).toEqual({ gate, passed: false, reason: expect.stringMatching(reason) });
      expect(events[2].data).toMatchObject({ by: 'gates', rejectedBy: null, comment: `refused by the gates: ${gate}` });
      const others = ['metrics', 'parameter-budget', 'consent', 'model-card'].filter((g) => g !== gate);
      for (const g of others) expect(verdictOf(events, g).passed).toBe(true);
    });

    it('passes the metrics gate when the candidate is worse only within the tolerance', () => {
      const facts = ModelEvents.facts({ ...holderOne(metrics({ bleu: 31, perplexity: 8 })), candidateMetrics: metrics({ bleu: 30.5, perplexity: 8.5 }) });
      expect(verdictOf(decideOn(championIsOne(), request(facts)), 'metrics')).toMatchObject({
        passed: true,
        reason: expect.stringMatching(/bleu 30\.5000 vs 31/),
      });
    });
    it('passes the metrics gate of a free alias on the candidate evaluation alone', () => {
      const events = decideOn(twoVersions(), request(ModelEvents.facts()));
      expect(verdictOf(events, 'metrics')).toMatchObject({ passed: true, reason: expect.stringMatching(/alias is free/) });
    });
    it('refuses a version that already holds the alias', () => {
      spec
        .given(championIsOne())
        .when(request(ModelEvents.facts(holderOne()), 1))
        .thenThrows(refusedWith(RegistryErrorCode.AliasAlreadyThere));
    });
    it('refuses while another promotion of the alias waits for approval', () => {
      spec
        .given([...championIsOne(), ...ModelEvents.promotionRequested(2, 2, 'champion', versionId(1))])
        .when(request(ModelEvents.facts(holderOne()), 2, 3))
        .thenThrows(refusedWith(RegistryErrorCode.PromotionPending));
    });
    it('refuses facts gathered against another holder (the alias moved meanwhile)', () => {
      spec.given(championIsOne()).when(request(ModelEvents.facts())).thenThrows(refusedWith(RegistryErrorCode.ConcurrentChange));
    });
    it('refuses an archived version', () => {
      const archived: RegisteredModelEvent = { type: 'ModelVersionArchived', data: { modelId: MODEL_ID, modelVersionId: versionId(2), reason: 'superseded' } };
      spec
        .given([...championIsOne(), archived])
        .when(request(ModelEvents.facts(holderOne())))
        .thenThrows(refusedWith(RegistryErrorCode.VersionArchived));
    });
  });

  describe('Approve', () => {
    const pending = () => [...championIsOne(), ...ModelEvents.promotionRequested(2, 2, 'champion', versionId(1))];
    const approve = (approverId: string): RegisteredModelCommand => ({ type: 'Approve', promotionId: promotionId(2), approverId, comment: 'looks right' });

    it('moves the alias when a second person approves, recording the previous holder', () => {
      spec
        .given(pending())
        .when(approve(APPROVER))
        .then([
          { type: 'PromotionApproved', data: { modelId: MODEL_ID, promotionId: promotionId(2), approvedBy: APPROVER, comment: 'looks right' } },
          {
            ...ModelEvents.moved('champion', 2, 1, 'promotion', 2),
            data: { ...ModelEvents.moved('champion', 2, 1, 'promotion', 2).data, reason: 'looks right' },
          },
        ]);
    });
    it('refuses self-approval by the promotion requester', () => {
      spec
        .given(pending())
        .when(approve(PROMOTER))
        .thenThrows(refusedWith(RegistryErrorCode.ApproverNotIndependent, /requester of a promotion/));
    });
    it("refuses approval by the requester of the version's training run", () => {
      spec
        .given(pending())
        .when(approve(TRAINER_ENGINEER))
        .thenThrows(refusedWith(RegistryErrorCode.ApproverNotIndependent, /requester of the training run/));
    });
    it('refuses a version flagged after its gates passed', () => {
      spec
        .given([...pending(), ModelEvents.flagged(2)])
        .when(approve(APPROVER))
        .thenThrows(refusedWith(RegistryErrorCode.VersionFlagged));
    });
    it('refuses a promotion the gates rejected', () => {
      const rejected = decideOn(championIsOne(), request(ModelEvents.facts({ ...holderOne(), parametersTotal: 8e9 })));
      spec
        .given([...championIsOne(), ...rejected])
        .when(approve(APPROVER))
        .thenThrows(refusedWith(RegistryErrorCode.PromotionNotPending, /rejected/));
    });
    it('lets a second person reject with a comment, leaving the alias where it was', () => {
      spec
        .given(pending())
        .when({ type: 'Reject', promotionId: promotionId(2), approverId: APPROVER, comment: 'not yet' })
        .then([
          { type: 'PromotionRejected', data: { modelId: MODEL_ID, promotionId: promotionId(2), by: 'approver', rejectedBy: APPROVER, comment: 'not yet' } },
        ]);
    });
  });

  describe('Rollback', () => {
    const championIsTwo = () => [
      ...championIsOne(),
      ...ModelEvents.promotionRequested(2, 2, 'champion', versionId(1)),
      ModelEvents.moved('champion', 2, 1, 'promotion', 2),
    ];
    it('moves the alias back to its previous holder, recorded as a rollback', () => {
      spec
        .given(championIsTwo())
        .when({ type: 'Rollback', alias: 'champion', reason: 'ok' })
        .then([ModelEvents.moved('champion', 1, 2, 'rollback')]);
    });
    it('skips a previous holder that was flagged since', () => {
      spec
        .given([...championIsTwo(), ModelEvents.flagged(1)])
        .when({ type: 'Rollback', alias: 'champion', reason: 'ok' })
        .thenThrows(refusedWith(RegistryErrorCode.NothingToRollBack, /neither archived nor flagged/));
    });
    it('refuses an alias with no earlier holder', () => {
      spec.given(championIsOne()).when({ type: 'Rollback', alias: 'champion', reason: 'ok' }).thenThrows(refusedWith(RegistryErrorCode.NothingToRollBack));
      spec
        .given(championIsOne())
        .when({ type: 'Rollback', alias: 'candidate', reason: 'ok' })
        .thenThrows(refusedWith(RegistryErrorCode.NothingToRollBack, /no alias candidate/));
    });
  });

  describe('Demote', () => {
    it('moves the alias to the last holder neither archived nor flagged, or takes it off the model', () => {
      const championIsTwo = [
        ...championIsOne(),
        ...ModelEvents.promotionRequested(2, 2, 'champion', versionId(1)),
        ModelEvents.approved(2),
        ModelEvents.moved('champion', 2, 1, 'promotion', 2),
      ];
      spec
        .given(championIsTwo)
        .when({ type: 'Demote', alias: 'champion', reason: 'ok' })
        .then([ModelEvents.moved('champion', 1, 2, 'demotion')]);
      spec
        .given([...championIsTwo, ModelEvents.flagged(1)])
        .when({ type: 'Demote', alias: 'champion', reason: 'ok' })
        .then([ModelEvents.moved('champion', null, 2, 'demotion')]);
      spec.given(twoVersions()).when({ type: 'Demote', alias: 'champion', reason: 'ok' }).thenThrows(refusedWith(RegistryErrorCode.NothingToRollBack));
    });
  });

  describe('Flag', () => {
    it('flags a version once per subject', () => {
      spec
        .given([...championIsOne(), ModelEvents.flagged(1, [1])])
        .when({ type: 'Flag', data: ModelEvents.flagged(1, [1, 2]).data, autoDemote: false })
        .then([ModelEvents.flagged(1, [2])]);
      spec
        .given([...championIsOne(), ModelEvents.flagged(1, [1])])
        .when({ type: 'Flag', data: ModelEvents.flagged(1, [1]).data, autoDemote: false })
        .then([]);
    });
    it('with automatic demotion, moves each alias of the version back to an unflagged holder, or removes it', () => {
      const championIsTwo = [
        ...championIsOne(),
        ...ModelEvents.promotionRequested(2, 2, 'champion', versionId(1)),
        ModelEvents.moved('champion', 2, 1, 'promotion', 2),
      ];
      const demoted = decideOn(championIsTwo, { type: 'Flag', data: ModelEvents.flagged(2).data, autoDemote: true });
      expect(demoted.map((e) => e.type)).toEqual(['ModelVersionFlagged', 'AliasMoved']);
      expect(demoted[1].data).toMatchObject({ alias: 'champion', modelVersionId: versionId(1), previousVersionId: versionId(2), kind: 'demotion' });
      const removed = decideOn(championIsOne(), { type: 'Flag', data: ModelEvents.flagged(1).data, autoDemote: true });
      expect(removed[1].data).toMatchObject({ alias: 'champion', modelVersionId: null, previousVersionId: versionId(1), kind: 'demotion' });
    });
  });

  describe('RequestRetrain', () => {
    it("asks the trainer to retrain a flagged version's run, once", () => {
      const flagged = [...twoVersions(), ModelEvents.flagged(2)];
      spec
        .given(flagged)
        .when({ type: 'RequestRetrain', modelVersionId: versionId(2) })
        .then([{ type: 'RetrainRequested', data: { modelId: MODEL_ID, modelVersionId: versionId(2), runId: runId(2) } }]);
      const requested = decideOn(flagged, { type: 'RequestRetrain', modelVersionId: versionId(2) });
      spec
        .given([...flagged, ...requested])
        .when({ type: 'RequestRetrain', modelVersionId: versionId(2) })
        .thenThrows(refusedWith(RegistryErrorCode.RetrainNotPossible, /requested already/));
    });
    it('refuses a version that is not flagged', () => {
      spec
        .given(twoVersions())
        .when({ type: 'RequestRetrain', modelVersionId: versionId(2) })
        .thenThrows(refusedWith(RegistryErrorCode.RetrainNotPossible, /not flagged/));
    });
  });

  describe('Archive', () => {
    it('refuses to archive the holder of an alias, and archives a free version', () => {
      const archive = (n: number): RegisteredModelCommand => ({
        type: 'Archive',
        data: { modelId: MODEL_ID, modelVersionId: versionId(n), reason: 'superseded' },
      });
      spec
        .given(championIsOne())
        .when(archive(1))
        .thenThrows(refusedWith(RegistryErrorCode.AliasAlreadyThere, /holds champion/));
      spec
        .given(championIsOne())
        .when(archive(2))
        .then([{ type: 'ModelVersionArchived', data: { modelId: MODEL_ID, modelVersionId: versionId(2), reason: 'superseded' } }]);
    });
  });
});
