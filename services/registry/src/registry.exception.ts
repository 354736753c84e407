import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum RegistryErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  ModelNotFound = 'MODEL_NOT_FOUND',
  VersionNotFound = 'VERSION_NOT_FOUND',
  EvaluationNotFound = 'EVALUATION_NOT_FOUND',
  PromotionNotFound = 'PROMOTION_NOT_FOUND',
  ModelNameTaken = 'MODEL_NAME_TAKEN',
  /** The version is archived: it keeps its history but takes no alias, promotion or evaluation. */
  VersionArchived = 'VERSION_ARCHIVED',
  /** Subjects of its snapshot withdrew consent or were erased: it may not take an alias. */
  VersionFlagged = 'VERSION_FLAGGED',
  /** The evaluation set shares items or subjects with the version's training snapshot. */
  EvaluationOverlap = 'EVALUATION_OVERLAP',
  /** A promotion is not waiting for approval (decided already, or refused by its gates). */
  PromotionNotPending = 'PROMOTION_NOT_PENDING',
  /** Another promotion of the same alias is waiting for approval. */
  PromotionPending = 'PROMOTION_PENDING',
  /** Approval by the promotion's requester or by the run's requester: a second person must approve. */
  ApproverNotIndependent = 'APPROVER_NOT_INDEPENDENT',
  NothingToRollBack = 'NOTHING_TO_ROLL_BACK',
  AliasAlreadyThere = 'ALIAS_ALREADY_THERE',
  RetrainNotPossible = 'RETRAIN_NOT_POSSIBLE',
  ConcurrentChange = 'CONCURRENT_CHANGE',
  /** A stored artifact (set, manifest, weights) does not match the hash its event carries. */
  ArtifactCorrupt = 'ARTIFACT_CORRUPT',
}

export class RegistryException extends DomainException<RegistryErrorCode> {
  override get transient(): boolean {
    return this.code === RegistryErrorCode.ConcurrentChange || this.errorClass === 'internal';
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case RegistryErrorCode.InvalidRequest:
      case RegistryErrorCode.EvaluationOverlap:
        return 'validation';
      case RegistryErrorCode.ApproverNotIndependent:
        return 'forbidden';
      case RegistryErrorCode.ModelNotFound:
      case RegistryErrorCode.VersionNotFound:
      case RegistryErrorCode.EvaluationNotFound:
      case RegistryErrorCode.PromotionNotFound:
        return 'not_found';
      case RegistryErrorCode.ModelNameTaken:
      case RegistryErrorCode.VersionArchived:
      case RegistryErrorCode.VersionFlagged:
      case RegistryErrorCode.PromotionNotPending:
      case RegistryErrorCode.PromotionPending:
      case RegistryErrorCode.NothingToRollBack:
      case RegistryErrorCode.AliasAlreadyThere:
      case RegistryErrorCode.RetrainNotPossible:
      case RegistryErrorCode.ConcurrentChange:
        return 'conflict';
      case RegistryErrorCode.ArtifactCorrupt:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }
}
