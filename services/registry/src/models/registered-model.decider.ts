import type {
  AliasMoved,
  ModelCardEdited,
  ModelVersionFlagged,
  ModelVersionRegistered,
  PromotionRequested,
  RegisteredModelCreated,
  RegisteredModelEvent,
} from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { checkGates, GateFacts } from '../promotion/promotion-gates';
import { RegistryErrorCode, RegistryException } from '../registry.exception';

/**
 * One registered model (stream `registered-model-<id>`): its versions, its aliases and their
 * promotions. Aliases, promotions and flags live in the same stream as the versions because
 * every rule about them (one holder per alias, no promotion of a flagged version, rollback to
 * the previous holder) reads them together, and one stream gives that one consistent version.
 */
export interface VersionState {
  modelVersionId: string;
  version: number;
  runRequestedBy: string | null;
  runId: string | null;
  snapshotSha256: string | null;
  archived: boolean;
  /** Subjects (pseudonymous ids) whose withdrawal or erasure flagged the version, and the items they had in its snapshot. */
  flaggedSubjects: string[];
  flaggedItems: number;
  cardRevision: number;
  retrainRequested: boolean;
}

export interface PromotionState {
  promotionId: string;
  alias: string;
  modelVersionId: string;
  requestedBy: string;
  status: 'pending' | 'approved' | 'rejected';
}

export interface RegisteredModelState {
  modelId: string | null;
  name: string | null;
  versions: VersionState[];
  /** alias -> the version it points to now. */
  aliases: Record<string, string>;
  /** alias -> the versions it pointed to, oldest first (null where it was removed): what rollback walks back on. */
  aliasTrail: Record<string, (string | null)[]>;
  promotions: PromotionState[];
}

export const initialRegisteredModelState: RegisteredModelState = { modelId: null, name: null, versions: [], aliases: {}, aliasTrail: {}, promotions: [] };

export const registeredModelStream = (modelId: string) => `registered-model-${modelId}`;

type Data<E extends RegisteredModelEvent['type']> = Extract<RegisteredModelEvent, { type: E }>['data'];

export type RegisteredModelCommand =
  | { type: 'CreateModel'; data: RegisteredModelCreated['data'] }
  | { type: 'RegisterVersion'; data: Omit<ModelVersionRegistered['data'], 'version'> }
  | { type: 'Tag'; data: Data<'ModelVersionTagged'> }
  | { type: 'Describe'; data: Data<'ModelDescribed'> }
  | { type: 'Archive'; data: Data<'ModelVersionArchived'> }
  | { type: 'EditCard'; data: Omit<ModelCardEdited['data'], 'revision'> }
  | {
      type: 'RequestPromotion';
      data: Omit<PromotionRequested['data'], 'currentVersionId' | 'evaluationSetSha256' | 'tolerance'>;
      /** Gathered by the use case; `holder` must be the alias's holder in this state (checked). */
      facts: GateFacts;
    }
  | { type: 'Approve'; promotionId: string; approverId: string; comment: string }
  | { type: 'Reject'; promotionId: string; approverId: string; comment: string }
  | { type: 'Rollback'; alias: string; reason: string }
  /** By hand what automatic demotion does: back to the last holder neither archived nor flagged, or off the model. */
  | { type: 'Demote'; alias: string; reason: string }
  | { type: 'Flag'; data: ModelVersionFlagged['data']; autoDemote: boolean }
  | { type: 'RequestRetrain'; modelVersionId: string };

const fail = (code: RegistryErrorCode, message: string, fields?: string[]): never => {
  throw new RegistryException(code, message, fields);
};

function requireModel(state: RegisteredModelState): string {
  return state.modelId ?? fail(RegistryErrorCode.ModelNotFound, 'no such registered model');
}

function requireVersion(state: RegisteredModelState, modelVersionId: string): VersionState {
  return (
    state.versions.find((v) => v.modelVersionId === modelVersionId) ??
    fail(RegistryErrorCode.VersionNotFound, `model ${state.name} has no version ${modelVersionId}`)
  );
}

function requireLive(v: VersionState, what: string): void {
  if (v.archived) fail(RegistryErrorCode.VersionArchived, `version ${v.version} is archived; cannot ${what}`);
}

const isFlagged = (v: VersionState) => v.flaggedSubjects.length > 0;
const aliasesOf = (state: RegisteredModelState, modelVersionId: string) =>
  Object.entries(state.aliases)
    .filter(([, id]) => id === modelVersionId)
    .map(([alias]) => alias)
    .sort();

/** The last holder before the current one that may hold the alias again (not archived, not flagged, not the current one). */
function fallback(state: RegisteredModelState, alias: string): string | null {
  const trail = state.aliasTrail[alias] ?? [];
  const current = state.aliases[alias] ?? null;
  for (let i = trail.length - 2; i >= 0; i--) {
    const id = trail[i];
    if (id === null || id === current) continue;
    const v = state.versions.find((x) => x.modelVersionId === id);
    if (v && !v.archived && !isFlagged(v)) return id;
  }
  return null;
}

function pendingPromotion(state: RegisteredModelState, promotionId: string): PromotionState {
  const p =
    state.promotions.find((x) => x.promotionId === promotionId) ??
    fail(RegistryErrorCode.PromotionNotFound, `model ${state.name} has no promotion ${promotionId}`);
  if (p.status !== 'pending') fail(RegistryErrorCode.PromotionNotPending, `promotion ${promotionId} is ${p.status}; there is nothing to decide`);
  return p;
}

function decide(state: RegisteredModelState, command: RegisteredModelCommand): RegisteredModelEvent[] {
  if (command.type === 'CreateModel') {
    if (state.modelId !== null) fail(RegistryErrorCode.ModelNameTaken, `a registered model named ${state.name} exists`);
    return [{ type: 'RegisteredModelCreated', data: command.data }];
  }
  const modelId = requireModel(state);
  switch (command.type) {
    case 'RegisterVersion': {
      const { data } = command;
      // A redelivered TrainingCompleted registers nothing twice.
      if (data.source.kind === 'training-run' && state.versions.some((v) => v.runId === (data.source as { runId: string }).runId)) return [];
      return [{ type: 'ModelVersionRegistered', data: { ...data, modelId, version: state.versions.length + 1 } }];
    }
    case 'Tag':
    case 'Describe': {
      if (command.data.modelVersionId !== null) requireVersion(state, command.data.modelVersionId);
      return command.type === 'Tag' ? [{ type: 'ModelVersionTagged', data: command.data }] : [{ type: 'ModelDescribed', data: command.data }];
    }
    case 'Archive': {
      const v = requireVersion(state, command.data.modelVersionId);
      requireLive(v, 'archive it again');
      const held = aliasesOf(state, v.modelVersionId);
      if (held.length > 0)
        fail(RegistryErrorCode.AliasAlreadyThere, `version ${v.version} holds ${held.join(', ')}; move or roll back the alias before archiving it`);
      return [{ type: 'ModelVersionArchived', data: command.data }];
    }
    case 'EditCard': {
      const v = requireVersion(state, command.data.modelVersionId);
      return [{ type: 'ModelCardEdited', data: { ...command.data, revision: v.cardRevision + 1 } }];
    }
    case 'RequestPromotion': {
      const { data, facts } = command;
      const v = requireVersion(state, data.modelVersionId);
      requireLive(v, 'promote it');
      const current = state.aliases[data.alias] ?? null;
      if (current === v.modelVersionId) fail(RegistryErrorCode.AliasAlreadyThere, `${data.alias} already points to version ${v.version}`);
      if ((facts.holder?.modelVersionId ?? null) !== current)
        fail(RegistryErrorCode.ConcurrentChange, `${data.alias} moved while the promotion was being prepared; try again`);
      if (state.promotions.some((p) => p.alias === data.alias && p.status === 'pending')) {
        fail(RegistryErrorCode.PromotionPending, `another promotion to ${data.alias} is waiting for approval; approve or reject it first`);
      }
      const verdicts = checkGates(facts);
      const passed = verdicts.every((g) => g.passed);
      const requested: RegisteredModelEvent = {
        type: 'PromotionRequested',
        data: { ...data, currentVersionId: current, evaluationSetSha256: facts.evaluationSetSha256, tolerance: facts.tolerance },
      };
      const checked: RegisteredModelEvent = { type: 'PromotionGatesChecked', data: { modelId, promotionId: data.promotionId, passed, verdicts } };
      if (passed) return [requested, checked];
      const failed = verdicts.filter((g) => !g.passed).map((g) => g.gate);
      return [
        requested,
        checked,
        {
          type: 'PromotionRejected',
          data: { modelId, promotionId: data.promotionId, by: 'gates', rejectedBy: null, comment: `refused by the gates: ${failed.join(', ')}` },
        },
      ];
    }
    case 'Approve':
    case 'Reject': {
      const p = pendingPromotion(state, command.promotionId);
      const v = requireVersion(state, p.modelVersionId);
      const verb = command.type === 'Approve' ? 'approve' : 'reject';
      if (command.approverId === p.requestedBy)
        fail(RegistryErrorCode.ApproverNotIndependent, `the requester of a promotion cannot ${verb} it; a second person must`);
      if (command.approverId === v.runRequestedBy) {
        fail(
          RegistryErrorCode.ApproverNotIndependent,
          `the requester of the training run behind version ${v.version} cannot ${verb} its promotion; a second person must`,
        );
      }
      if (command.type === 'Reject') {
        return [
          {
            type: 'PromotionRejected',
            data: { modelId, promotionId: p.promotionId, by: 'approver', rejectedBy: command.approverId, comment: command.comment },
          },
        ];
      }
      // The gates passed when the promotion was asked for; what may have happened since is checked again.
      requireLive(v, 'promote it');
      if (isFlagged(v))
        fail(RegistryErrorCode.VersionFlagged, `version ${v.version} was flagged since the promotion was requested: subjects of its snapshot withdrew consent`);
      const previous = state.aliases[p.alias] ?? null;
      return [
        { type: 'PromotionApproved', data: { modelId, promotionId: p.promotionId, approvedBy: command.approverId, comment: command.comment } },
        {
          type: 'AliasMoved',
          data: {
            modelId,
            alias: p.alias,
            modelVersionId: v.modelVersionId,
            previousVersionId: previous,
            kind: 'promotion',
            promotionId: p.promotionId,
            reason: command.comment,
          },
        },
      ];
    }
    case 'Rollback':
    case 'Demote': {
      const current = state.aliases[command.alias] ?? fail(RegistryErrorCode.NothingToRollBack, `model ${state.name} has no alias ${command.alias}`);
      // A rollback needs an earlier holder to go back to; a demotion may take the alias off the model.
      const target =
        fallback(state, command.alias) ??
        (command.type === 'Demote'
          ? null
          : fail(RegistryErrorCode.NothingToRollBack, `${command.alias} has no earlier holder that is neither archived nor flagged`));
      const kind = command.type === 'Demote' ? 'demotion' : 'rollback';
      return [
        {
          type: 'AliasMoved',
          data: { modelId, alias: command.alias, modelVersionId: target, previousVersionId: current, kind, promotionId: null, reason: command.reason },
        },
      ];
    }
    case 'Flag': {
      const v = requireVersion(state, command.data.modelVersionId);
      // Each subject flags a version once, however often its withdrawal is heard.
      const fresh = command.data.subjectIds.filter((s) => !v.flaggedSubjects.includes(s));
      if (fresh.length === 0) return [];
      const events: RegisteredModelEvent[] = [{ type: 'ModelVersionFlagged', data: { ...command.data, subjectIds: fresh } }];
      if (!command.autoDemote) return events;
      const afterFlag = evolve(state, events[0]);
      for (const alias of aliasesOf(state, v.modelVersionId)) {
        const target = fallback(afterFlag, alias);
        const reason = `automatic demotion: version ${v.version} was flagged (${command.data.trigger})`;
        events.push({
          type: 'AliasMoved',
          data: { modelId, alias, modelVersionId: target, previousVersionId: v.modelVersionId, kind: 'demotion', promotionId: null, reason },
        });
      }
      return events;
    }
    case 'RequestRetrain': {
      const v = requireVersion(state, command.modelVersionId);
      if (v.runId === null) fail(RegistryErrorCode.RetrainNotPossible, `version ${v.version} was registered by hand; there is no training run to retrain`);
      if (!isFlagged(v)) fail(RegistryErrorCode.RetrainNotPossible, `version ${v.version} is not flagged: no subject of its snapshot has withdrawn`);
      if (v.retrainRequested) fail(RegistryErrorCode.RetrainNotPossible, `a retrain of version ${v.version} was requested already`);
      return [{ type: 'RetrainRequested', data: { modelId, modelVersionId: v.modelVersionId, runId: v.runId! } }];
    }
    default:
      return command satisfies never;
  }
}

const updateVersion = (state: RegisteredModelState, id: string, change: (v: VersionState) => VersionState): RegisteredModelState => ({
  ...state,
  versions: state.versions.map((v) => (v.modelVersionId === id ? change(v) : v)),
});

const updatePromotion = (state: RegisteredModelState, id: string, status: PromotionState['status']): RegisteredModelState => ({
  ...state,
  promotions: state.promotions.map((p) => (p.promotionId === id ? { ...p, status } : p)),
});

function moveAlias(state: RegisteredModelState, data: AliasMoved['data']): RegisteredModelState {
  const aliases = { ...state.aliases };
  if (data.modelVersionId === null) delete aliases[data.alias];
  else aliases[data.alias] = data.modelVersionId;
  const trail = [...(state.aliasTrail[data.alias] ?? []), data.modelVersionId];
  return { ...state, aliases, aliasTrail: { ...state.aliasTrail, [data.alias]: trail } };
}

function evolve(state: RegisteredModelState, event: RegisteredModelEvent): RegisteredModelState {
  switch (event.type) {
    case 'RegisteredModelCreated':
      return { ...state, modelId: event.data.modelId, name: event.data.name };
    case 'ModelVersionRegistered': {
      const d = event.data;
      const run = d.source.kind === 'training-run' ? d.source : null;
      const version: VersionState = {
        modelVersionId: d.modelVersionId,
        version: d.version,
        runId: run?.runId ?? null,
        runRequestedBy: run?.requestedBy ?? null,
        snapshotSha256: d.snapshot?.manifest.sha256 ?? null,
        archived: false,
        flaggedSubjects: [],
        flaggedItems: 0,
        cardRevision: 0,
        retrainRequested: false,
      };
      return { ...state, versions: [...state.versions, version] };
    }
    case 'ModelVersionArchived':
      return updateVersion(state, event.data.modelVersionId, (v) => ({ ...v, archived: true }));
    case 'ModelCardEdited':
      return updateVersion(state, event.data.modelVersionId, (v) => ({ ...v, cardRevision: event.data.revision }));
    case 'ModelVersionFlagged':
      return updateVersion(state, event.data.modelVersionId, (v) => ({
        ...v,
        flaggedSubjects: [...v.flaggedSubjects, ...event.data.subjectIds],
        flaggedItems: v.flaggedItems + event.data.itemsAffected,
      }));
    case 'RetrainRequested':
      return updateVersion(state, event.data.modelVersionId, (v) => ({ ...v, retrainRequested: true }));
    case 'PromotionRequested': {
      const d = event.data;
      return {
        ...state,
        promotions: [
          ...state.promotions,
          { promotionId: d.promotionId, alias: d.alias, modelVersionId: d.modelVersionId, requestedBy: d.requestedBy, status: 'pending' },
        ],
      };
    }
    case 'PromotionApproved':
      return updatePromotion(state, event.data.promotionId, 'approved');
    case 'PromotionRejected':
      return updatePromotion(state, event.data.promotionId, 'rejected');
    case 'AliasMoved':
      return moveAlias(state, event.data);
    case 'PromotionGatesChecked':
    case 'ModelVersionTagged':
    case 'ModelDescribed':
      return state;
    default:
      return event satisfies never;
  }
}

export const registeredModelDecider: Decider<RegisteredModelState, RegisteredModelCommand, RegisteredModelEvent> = {
  decide,
  evolve,
  initialState: initialRegisteredModelState,
};
